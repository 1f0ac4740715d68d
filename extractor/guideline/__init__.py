"""Findings and documents in; indications, recommendation, checklist, request details and rationale out.

Generic over the guideline model: a new guideline version is a new file under models/guidelines.
Files: inputs (what the step reads besides findings), indications, request, checklist, rationale.
"""
