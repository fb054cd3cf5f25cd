"""Who is doing a piece of long work, and whether that process may still be
at it: the one rule for import runs (services/imports.py) and queue tasks
(tasks/records.py), which both mark their work with an owner and a heartbeat."""
from __future__ import annotations

import os
import socket


def owner() -> str:
    """This process, as `host:pid` (the host cut to 60 characters)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def owner_may_be_alive(tag: str | None) -> bool:
    """False only when `tag` names a process of this machine that is gone;
    another machine's process (or a tag that names no process) is taken to
    be alive while its heartbeat is fresh, which the caller checks."""
    host, _sep, pid = (tag or "").rpartition(":")
    if host != socket.gethostname()[:60] or not pid.isdigit():
        return True  # another machine, heard from lately
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True
