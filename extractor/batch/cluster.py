"""Where cases run: local worker processes (a Dask LocalCluster) or an existing Dask scheduler.

Dask traffic carries note text, so it is always TLS: the local cluster with throwaway certificates made
for this run (Security.temporary()), an existing scheduler only at a tls:// address with the certificates
of Dask's own configuration (distributed.comm.tls.*, or DASK_DISTRIBUTED__COMM__TLS__* variables)."""

from __future__ import annotations

import contextlib
import logging
import warnings
from typing import TYPE_CHECKING

from extractor.config import get_settings
from extractor.errors import BackfillError

from .task import warm_up

if TYPE_CHECKING:
    from distributed import LocalCluster
    from distributed.security import Security

TLS_HELP = (
    "set distributed.comm.tls.ca-file, distributed.comm.tls.client.cert and distributed.comm.tls.client.key "
    "in Dask's configuration (or DASK_DISTRIBUTED__COMM__TLS__CA_FILE, ..._CLIENT__CERT, ..._CLIENT__KEY)"
)


def external_security(scheduler: str):
    """The TLS configuration to reach an existing scheduler; a clear error if it is not TLS or has none."""
    from distributed.security import Security  # lazy: Dask loads only when there is work

    if not scheduler.startswith("tls://"):
        raise BackfillError(f"--scheduler {scheduler}: must be a tls:// address (Dask traffic carries note text)")
    security = Security(require_encryption=True)
    if not (security.tls_ca_file and security.tls_client_cert):
        raise BackfillError(f"--scheduler {scheduler}: no TLS configuration; {TLS_HELP}")
    return security


# The local cluster's Dask configuration. One task per single-threaded worker, and no silent re-run of a task
# whose worker died: the state counts attempts and quarantines a case that keeps killing workers. No one looks
# at its diagnostics (it has no dashboard), so the workers' statistical profiler (a walk of the running
# task's stack every 10 ms) is off and the event loops' health tick runs every second instead of every 20 ms:
# together ~0.1 s of CPU a second of a 2-worker cluster, a tenth of a faxed page's Tesseract each second
# (benchmarks/rescore.py).
LOCAL_CONFIG = {
    "distributed.scheduler.allowed-failures": 0,
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
}


def local_cluster(workers: int) -> tuple[LocalCluster, Security]:
    """A Dask LocalCluster of `workers` single-threaded processes over TLS with certificates of this run only
    (in memory), and its Security for the client (also what benchmarks/rescore.py times the backfill on)."""
    import dask
    from distributed import LocalCluster
    from distributed.security import Security

    with dask.config.set(LOCAL_CONFIG), warnings.catch_warnings():
        # The scheduler's health endpoint falls back to a free port when 8787 is taken: not news.
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        security = Security.temporary()
        cluster = LocalCluster(
            security=security,
            protocol="tls://",
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    return cluster, security


class Cluster:
    """Local worker processes (a Dask LocalCluster) or an existing Dask scheduler, over TLS."""

    def __init__(self, workers: int, scheduler: str | None):
        # Dask loads only when there is work: a rerun over a finished job starts in well under its ~1.5 s.
        from distributed import Client

        # Worker deaths are expected here (hostile files) and reported per case; keep Dask's logs off the terminal.
        logging.getLogger("distributed").setLevel(logging.CRITICAL)
        self.cluster = None
        if scheduler:
            security = external_security(scheduler)
            try:
                self.client = Client(scheduler, timeout=get_settings().backfill_connect_seconds, security=security)
            except (OSError, TimeoutError) as exc:
                raise BackfillError(f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__})") from None
            try:
                self.client.wait_for_workers(1, timeout=60)
            except TimeoutError:
                self.client.close()
                raise BackfillError(f"the Dask scheduler at {scheduler} has no workers") from None
        else:
            self.cluster, security = local_cluster(workers)
            self.client = Client(self.cluster, security=security)
        try:
            self.client.run(warm_up)
        except Exception as exc:
            self.close()
            raise BackfillError(f"workers cannot load the pipeline ({type(exc).__name__}: {exc})") from None

    def slots(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()
