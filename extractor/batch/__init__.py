"""Batch backfill: many historical cases through `extractor.case.prefill`, resumable, scaled out on Dask.

Files: inputs (case folders or a manifest), task (the per-case task on a worker), state (the state tables
and every SQL statement on them), output (JSON Lines written from the state, exactly once), cluster
(local workers or a scheduler), dispatch (claim, collect, settle), store_sync (into the web app's
database), backfill (the job), summary and progress (what operations see).
"""
