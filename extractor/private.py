"""PHI at rest: folders 0700 and files 0600, whatever the umask the process was started with.

`serve` and `backfill` set a 0077 umask at start (so files libraries create, such as SQLite's side
files or Dask's scratch space, are private too) and every file the product writes is also created with
an explicit mode here, so a caller that embeds the package (tests, a script) gets the same modes."""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
UMASK = 0o077


def restrict_umask() -> int:
    """Files and folders created from now on by this process and its children are the owner's only."""
    return os.umask(UMASK)


def private_dir(path: Path | str) -> Path:
    """Create (with parents) and keep a folder at 0700."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if path.stat().st_mode & 0o777 != DIR_MODE:
        path.chmod(DIR_MODE)
    return path


def tighten(*paths: Path | str) -> None:
    """Files that exist (perhaps written by an older version) are made 0600."""
    for path in paths:
        try:
            if os.stat(path).st_mode & 0o777 != FILE_MODE:
                os.chmod(path, FILE_MODE)
        except FileNotFoundError:
            pass


def open_private(path: Path | str, mode: str = "ab"):
    """A binary file object like open(), the file created 0600 (and made 0600 if it existed)."""
    flags = {"ab": os.O_WRONLY | os.O_CREAT | os.O_APPEND, "wb": os.O_WRONLY | os.O_CREAT | os.O_TRUNC}[mode]
    fd = os.open(path, flags | os.O_CLOEXEC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, mode)


def write_private(path: Path | str, data: bytes) -> None:
    """Write a whole file atomically (temp file, then rename), 0600 from its first byte."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open_private(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
