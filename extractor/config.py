"""One pydantic-settings object for every tunable the product reads from the environment."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXTRACTOR_", env_file=None)

    models_dir: Path | None = None
    data_dir: Path = Path("data")


def get_settings() -> Settings:
    return Settings()
