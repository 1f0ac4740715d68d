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
    session_hours: float = 12.0
    token_hours: float = 12.0
    login_max_failures: int = 5  # per user name and client address within login_window_seconds
    login_window_seconds: int = 300


def get_settings() -> Settings:
    return Settings()
