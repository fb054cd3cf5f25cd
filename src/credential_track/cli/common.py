"""What the commands share: progress on a terminal, the error exit, and the
command groups that several modules add commands to."""
from __future__ import annotations

import sys
import time

import click


class Progress:
    """Rows/s and ETA on a terminal; silent when output is not a terminal."""

    def __init__(self, total: int, label: str):
        self.total, self.label, self.done = total, label, 0
        self.start = time.monotonic()
        self.tty = sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if not self.tty or (now - self._last < 0.2 and self.done < self.total):
            return
        self._last = now
        rate = self.done / max(now - self.start, 1e-6)
        eta = (self.total - self.done) / rate if rate else 0
        pct = 100 * self.done / self.total if self.total else 100
        sys.stderr.write(f"\r{self.label}: {self.done:,}/{self.total:,} ({pct:.0f}%) "
                         f"{rate:,.0f} rows/s, ETA {eta:.0f}s ")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def fail(message: str) -> None:
    raise click.ClickException(message)


@click.group("user")
def user_group():
    """Manage users."""


@click.group("token")
def token_group():
    """Manage API tokens."""


@click.group("import")
def import_group():
    """Import files: manifests, revocations, EMS delivery events."""
