"""Files that hold personal data or secrets: readable by their owner only.

The database and its WAL/SHM files, backups, import uploads and their
rejects and state files, exports written by the command line, the outbox:
each is created mode 0600 (folders 0700) where it is made, whatever the
process umask, and an existing file is narrowed to 0600 when it is opened
for writing again.
"""
from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_open(path: str | os.PathLike, mode: str = "w", **kw):
    """`open(path, mode)` for writing ("w", "a", "wb", "ab"), the file made or
    narrowed to mode 0600 before anything is written to it."""
    if mode[0] not in "wa":
        raise ValueError(f"private_open writes; mode {mode!r} does not")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode[0] == "a" else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # an existing file keeps its mode through os.open
        return os.fdopen(fd, mode, **kw)
    except BaseException:
        os.close(fd)
        raise


def make_private(path: str | os.PathLike) -> None:
    """Narrow an existing file to mode 0600 (nothing when it does not exist)."""
    try:
        os.chmod(path, FILE_MODE)
    except FileNotFoundError:
        pass


def touch_private(path: str | os.PathLike) -> None:
    """Create `path` empty with mode 0600 if it does not exist, else narrow it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def private_dir(path: str | os.PathLike) -> Path:
    """Make the folder (and its parents) if needed; the folder itself mode 0700."""
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(p, DIR_MODE)
    return p
