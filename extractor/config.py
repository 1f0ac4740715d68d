"""One pydantic-settings object for every tunable the product reads from the environment."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


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
    login_max_failures: int = 5  # per user name and client address within login_window_seconds
    login_window_seconds: int = 300

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
    ocr_orientation_below: float = 80.0
    ocr_orientation_min_confidence: float = 1.0  # OSD's own scale; below it the angle is a guess
    # a page still under this confidence, or with fewer dictionary words than this share, is noise
    ocr_noise_confidence: float = 50.0
    ocr_noise_word_share: float = 0.15
    ocr_language: str = "eng"

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


def get_settings() -> Settings:
    return Settings()
