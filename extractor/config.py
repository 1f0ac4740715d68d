"""One pydantic-settings object for every tunable the product reads from the environment."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXTRACTOR_", env_file=None)

    models_dir: Path | None = None
    data_dir: Path = Path("data")
    # Batch backfill: how long a dispatched case may stay claimed before it counts as a crashed
    # attempt, and how many attempts a case gets before it is quarantined.
    backfill_claim_seconds: float = 600.0
    backfill_max_attempts: int = 3
    backfill_connect_seconds: float = 10.0
    # A backfill worker rebuilds its pipeline after this many cases (0 = never): the process grows by ~10 MB
    # per 1,000 cases in native (non-Python) memory of the NLP pipeline; a rebuild gives part of it back.
    backfill_reload_every: int = 1000
    # Test hook only: a backfill worker that meets a document of this file name exits at once,
    # as a worker killed by a hostile file would.
    test_crash_file: str | None = None


def get_settings() -> Settings:
    return Settings()
