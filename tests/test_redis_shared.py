"""With Redis configured, several app processes behave as one: the login
rate limit counts a client's attempts across them, and a token revoked
through one process stops working in the others at once (not after
CACHE_SECONDS). Two real `credtrack serve` processes on one database."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest

from credential_track.db import write_session
from credential_track.services import accounts

from .factories import PASSWORD
from .test_tasks import _free_port, _wait

REDIS_URL = os.environ.get("CREDTRACK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL} (.ci/run requires one)")
    return REDIS_URL


def _serve(env: dict) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "credential_track", "serve", "--port", str(port), "--workers", "1",
                             "--threads", "2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}"


def _call(url: str, *, method: str = "GET", headers: dict | None = None, body: dict | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={**(headers or {}), **({"Content-Type": "application/json"} if body else {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def two_apps(redis_url, db_url, tmp_path):
    procs = []

    def start(**extra) -> list[str]:
        bases = []
        for n in (1, 2):
            env = {**os.environ, "DATABASE_URL": db_url, "CREDTRACK_INSTANCE_PATH": str(tmp_path / f"inst{n}"),
                   "SECRET_KEY": "shared-secret", "CREDTRACK_REDIS_URL": redis_url, "CREDTRACK_PROXY_HOPS": "1",
                   **extra}
            env.pop("PROMETHEUS_MULTIPROC_DIR", None)
            proc, base = _serve(env)
            procs.append(proc)
            bases.append(base)
        for base in bases:
            _wait(lambda base=base: _up(base), 60, base)
        return bases

    yield start
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(30)


def _up(base: str) -> bool:
    try:
        urllib.request.urlopen(base + "/healthz", timeout=2)
        return True
    except OSError:
        return False


def test_two_app_processes_share_the_login_rate_limit(two_apps):
    import http.cookiejar
    import re
    import urllib.parse

    a, b = two_apps(CREDTRACK_LOGIN_RATE_LIMIT="4 per minute")
    # one client (one address, one browser session) talking to both apps
    client = {"X-Forwarded-For": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"}
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(urllib.request.Request(a + "/login", headers=client)).read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def attempt(base: str, n: int) -> int:
        form = urllib.parse.urlencode({"username": f"nobody{n}", "password": "wrong password!",
                                       "csrf_token": token}).encode()
        try:
            return opener.open(urllib.request.Request(base + "/login", data=form, headers=client)).status
        except urllib.error.HTTPError as exc:
            return exc.code

    answers = [attempt(base, n) for n, base in enumerate((a, b, a, b, a, b))]
    # four attempts in all pass (wrong password: 401), then both apps refuse the client
    assert answers == [401, 401, 401, 401, 429, 429], answers


def test_a_token_revoked_through_one_process_stops_at_once_in_the_other(two_apps, engine):
    with write_session(engine) as s:
        accounts.create_user(s, username="redis-admin", password=PASSWORD, role="admin")
        admin = accounts.create_token(s, username="redis-admin").secret
        station = accounts.create_token(s, station_code="WS-01")
        s.flush()
        station_token_id = station.token.id
    a, b = two_apps(CREDTRACK_CACHE_SECONDS="120")
    bearer = {"Authorization": f"Bearer {station.secret}"}
    assert _call(b + "/api/v1/stations", headers=bearer) == 200
    time.sleep(0.5)  # B's listener has subscribed (a new subscription empties the caches once)
    assert _call(b + "/api/v1/stations", headers=bearer) == 200  # B now holds the token in memory for 120 s
    assert _call(a + f"/api/v1/tokens/{station_token_id}/revoke", method="POST",
                 headers={"Authorization": f"Bearer {admin}"}, body={}) == 200
    _wait(lambda: _call(b + "/api/v1/stations", headers=bearer) == 401, 5, "B to refuse the revoked token")
