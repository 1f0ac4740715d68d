"""The pages' Jinja templates, one environment shared by the HTML routes and the case view that renders into it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates

from extractor import clock, store

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))


def _age(when: datetime) -> str:
    seconds = max(0, int((store.utcnow() - when).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


templates.env.auto_reload = False  # templates ship inside the package; no stat per include
templates.env.filters["age"] = _age
templates.env.globals["time_left"] = clock.time_left_label
templates.env.globals["is_overdue"] = clock.is_overdue
templates.env.filters["utc"] = lambda when: clock.iso_z(when) or ""
