"""The nginx configuration that docs/OPERATIONS.md tells operators to use
is the one shipped, and in front of `credtrack serve` it keeps answering a
legitimate client while silent connections are held open."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_operations_doc_shows_the_shipped_nginx_configuration():
    conf = (ROOT / "deploy" / "nginx-credtrack.conf").read_text(encoding="utf-8")
    doc = (ROOT / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    assert "```nginx\n" + conf + "```" in doc


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (apt-get install nginx)")
def test_behind_the_shipped_nginx_silent_connections_do_not_starve_a_legitimate_client(db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("the server runs on a fresh SQLite database of its own")
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "slow_clients.py"), "--smoke", "--nginx-only"],
                         capture_output=True, text=True, timeout=300)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["metrics"]["nginx_rate"] == 1.0, out.stdout
    assert out.returncode == 0
