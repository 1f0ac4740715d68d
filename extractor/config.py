"""One pydantic-settings object for every tunable the product reads from the environment."""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXTRACTOR_", env_file=None)

    models_dir: Path | None = None
    data_dir: Path = Path("data")
    # web application (extractor serve)
    database_url: str | None = None  # default: SQLite file extractor.db in data_dir
    max_upload_bytes: int = 50 * 1024 * 1024  # whole request; beyond it the upload is refused with 413
    max_upload_files: int = 50
    web_workers: int = 1  # background processes that prefill queued cases
    # A worker renews its claim every third of the lease while a case runs; a claim not renewed for a lease
    # (its worker or server vanished) is taken up again. A case still running at the deadline is failed.
    web_claim_lease_seconds: float = 60.0
    web_case_deadline_seconds: float = 1800.0
    session_hours: float = 12.0
    token_hours: float = 12.0
    # X-Forwarded-For / -Proto are believed only from these addresses or networks (EXTRACTOR_TRUSTED_PROXIES,
    # comma-separated); from anyone else they are ignored, so a client cannot forge its address
    trusted_proxies: Annotated[list[str], NoDecode] = []
    # Host headers answered (EXTRACTOR_ALLOWED_HOSTS, comma-separated; "*" any); others get 400
    allowed_hosts: Annotated[list[str], NoDecode] = ["localhost", "127.0.0.1", "::1", "testserver"]
    public_base_url: str | None = None  # links in FHIR Bundles start with it (else the request's own URL)
    body_idle_seconds: float = 30.0  # a request body that sends nothing for this long is cut off with 408
    login_max_failures: int = 5  # per user name (from any client) within login_window_seconds
    login_max_failures_per_client: int = 20  # per client address (whatever the user names)
    login_window_seconds: int = 300
    login_tracked_keys: int = 10_000  # names and addresses the limiter remembers; the oldest are forgotten
    # where failed logins are counted: "database" shares them between every server instance on one store,
    # "memory" keeps them per process; "auto" is database on PostgreSQL (instances can share it), else memory
    login_counters: Literal["auto", "memory", "database"] = "auto"
    # password hashing (argon2, ~50 ms of CPU each): so many at once, so many more waiting, else 503
    password_hash_workers: int = 2
    password_hash_waiting: int = 8
    password_hash_wait_seconds: float = 5.0

    # Request clock (CMS-0057-F): a decision is due this long after receipt; a plan whose line of business has
    # other windows sets these. A fax header's transmission time without a zone is read in fax_timezone.
    expedited_hours: float = 72.0
    standard_hours: float = 7 * 24.0
    fax_timezone: str = "UTC"
    # QA: this share of decided cases (drawn reproducibly from qa_seed and the case id) gets a second review
    qa_sample_share: float = 0.1
    qa_seed: str = "extractor-qa"

    # PDF intake: every PDF is read in a separate worker process with these bounds.
    pdf_isolation: bool = True
    pdf_workers: int = 2  # PDFs read at once per process (each in its own worker)
    pdf_memory_mb: int = 2048
    pdf_timeout_s: float = 180.0
    pdf_max_pages: int = 1000
    pdf_max_bytes: int = 200 * 1024 * 1024
    # OCR (Tesseract) of pages without a usable text layer.
    ocr_dpi: int = 300
    ocr_native_dpi: bool = True  # a full-page scan of 150-400 dpi is rendered at its own resolution
    ocr_max_pixels: int = 40_000_000
    ocr_max_pages: int = 200
    ocr_workers: int = 0  # parallel pages; 0 = one per CPU core
    ocr_threads_per_page: int = 1  # OMP_THREAD_LIMIT given to each tesseract
    ocr_page_timeout_s: float = 60.0
    ocr_min_confidence: float = 70.0
    # orientation: a page read under this mean confidence (or with sideways text) goes to Tesseract's OSD
    ocr_orientation: bool = True
    ocr_orientation_below: float = 70.0  # upright pages read above it and skip OSD
    ocr_orientation_min_confidence: float = 1.0  # OSD's own scale; below it the angle is a guess
    # a page still under this confidence, or with fewer dictionary words than this share, is noise
    ocr_noise_confidence: float = 50.0
    ocr_noise_word_share: float = 0.15
    ocr_language: str = "eng"
    # page images of the case page, rendered once at intake by the bounded PDF worker
    page_image_scale: float = 1.5  # 108 dpi
    page_image_max_pixels: int = 6_000_000
    # document-text cache (extractor cache prune): bounds applied by the prune command's defaults
    cache_max_age_days: float = 365.0
    cache_max_mb: float = 10_240.0

    # Batch backfill: how long a dispatched case may stay claimed before it counts as a crashed
    # attempt, and how many attempts a case gets before it is quarantined.
    backfill_claim_seconds: float = 600.0
    backfill_max_attempts: int = 3
    backfill_connect_seconds: float = 10.0
    # A backfill worker rebuilds its pipeline after this many cases (0 = never): the process grows by ~10 MB
    # per 1,000 cases in native (non-Python) memory of the NLP pipeline (~2.5 MB since the NLP speed-up);
    # a rebuild gives it back.
    backfill_reload_every: int = 5000
    # Cases sent to a worker in one Dask task: Dask's scheduler costs about as much per task as a small case.
    # A case whose worker dies runs again alone, so a crash is still pinned on one case.
    backfill_cases_per_task: int = 4
    # Test hook only: a backfill worker that meets a document of this file name exits at once,
    # as a worker killed by a hostile file would.
    test_crash_file: str | None = None

    @field_validator("trusted_proxies", "allowed_hosts", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        """A list from the environment is written `a,b,c`."""
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value


def get_settings() -> Settings:
    return Settings()
