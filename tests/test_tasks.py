"""The task queue: the schedule, progress, a failed task's reason and its
retry, and a worker killed in the middle of an import (a real worker
process, SIGKILLed)."""
from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from credential_track import tasks
from credential_track.models import Credential, ImportRun
from credential_track.tasks import imports as task_imports
from credential_track.tasks import periodic, records

from .factories import configure
from .test_import_manifest import row
from .test_import_pages import manifest_bytes


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_periodic_tasks_are_scheduled_as_configured(app):
    with app.app_context():
        # 06:00 in Shanghai is 22:00 UTC: the daily report, with everything that runs each minute
        assert periodic.due_at(_utc(2026, 12, 1, 22, 0)) == [
            "outreach_sweep", "notify_send", "dashboard_refresh", "import_recover", "daily_report"]
        assert periodic.due_at(_utc(2026, 12, 1, 22, 3)) == ["notify_send", "dashboard_refresh", "import_recover"]
        assert "outreach_sweep" in periodic.due_at(_utc(2026, 12, 1, 22, 5))
        assert "daily_report" not in periodic.due_at(_utc(2026, 12, 1, 6, 0))
        assert "cleanup" in periodic.due_at(_utc(2026, 12, 1, 6, 30))
        assert "cleanup" not in periodic.due_at(_utc(2026, 12, 1, 6, 31))
    configure(app, OUTREACH_SWEEP_MINUTES=15, DAILY_REPORT_HOUR=7, TIMEZONE="Europe/Paris")
    with app.app_context():
        assert "outreach_sweep" not in periodic.due_at(_utc(2026, 12, 1, 10, 5))
        assert "outreach_sweep" in periodic.due_at(_utc(2026, 12, 1, 10, 45))
        assert "daily_report" in periodic.due_at(_utc(2026, 12, 1, 6, 0))  # 07:00 in Paris in winter
        assert "daily_report" not in periodic.due_at(_utc(2026, 12, 1, 22, 0))


def test_periodic_tasks_run_their_services_and_keep_their_last_run(app, engine, tmp_path):
    configure(app, REPORT_DIR=str(tmp_path / "reports"))
    periodic.outreach_sweep()
    periodic.daily_report()
    runs = records.last_runs()
    assert runs["outreach_sweep"]["ok"] and runs["daily_report"]["ok"]
    with app.app_context():
        from credential_track import clock

        pdf, xlsx = periodic.report_files(app, clock.yesterday())
        assert pdf.read_bytes()[:4] == b"%PDF" and xlsx.read_bytes()[:2] == b"PK"
        assert periodic.kept_reports(app) == [clock.yesterday()]
    assert records.run_stats()["daily_report"]["count"] == 1


def test_a_lock_left_by_a_killed_worker_does_not_stop_the_schedule(app):
    """A periodic run holds its lock while it runs; a worker killed under it
    (here: a lock naming a process of this machine that is gone) leaves a
    lock the next run takes over, instead of skipping every run after."""
    from credential_track import liveness
    from credential_track.tasks.queue import huey

    ran = []
    key = periodic._lock_key("outreach_sweep")
    # a live run elsewhere (this process, just now): the next run waits its turn
    huey.put(key, {"owner": liveness.owner(), "since": time.time()})
    assert periodic._run("outreach_sweep", lambda app: ran.append(1)) is None and ran == []
    # the lock of a process that is gone
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    huey.put(key, {"owner": f"{liveness.owner().rpartition(':')[0]}:{gone.pid}", "since": time.time()})
    assert periodic._run("outreach_sweep", lambda app: ran.append(1) or "done") == "done" and ran == [1]
    assert huey.get(key, peek=True) is None  # released after the run
    # another machine's lock, taken two hours ago; and an earlier version's lock value
    for stale in ({"owner": "elsewhere:1", "since": time.time() - 7200}, "1"):
        huey.put(key, stale)
        assert periodic._run("outreach_sweep", lambda app: ran.append(1) or "done") == "done"
    assert len(ran) == 3
    # another machine's fresh lock is respected
    huey.put(key, {"owner": "elsewhere:1", "since": time.time()})
    assert periodic._run("outreach_sweep", lambda app: ran.append(1)) is None and len(ran) == 3
    huey.delete(key)


def test_a_failed_import_shows_why(app, tmp_path, client, auth):
    configure(app, IMPORT_JOBS_DIR=str(tmp_path))
    auth.login("supervisor")
    client.post("/lang/en", data={"csrf_token": auth.csrf})
    resp = client.post("/imports/", content_type="multipart/form-data",
                       data={"csrf_token": auth.csrf, "file": (io.BytesIO("备注\n1\n".encode()), "x.csv")})
    job = resp.headers["Location"].rsplit("/", 1)[1]
    state = client.get(f"/imports/jobs/{job}.json").get_json()
    assert state["state"] == "failed" and state["error"]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "could not be imported" in page and 'id="job-retry"' not in page  # the file itself is wrong


def _worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "credential_track", "worker", "--threads", "1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stderr:
        proc.stderr.close()


def _wait(cond, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _count(engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(Credential))


def _writing(engine) -> bool:
    with Session(engine) as s:
        return s.exec(select(ImportRun).where(ImportRun.state == "writing")).first() is not None


@pytest.fixture
def real_queue(app, tmp_path, db_url):
    """The app on a real SQLite queue file, and the environment of a worker
    process on the same queue and database."""
    configure(app, QUEUE_IMMEDIATE=False, QUEUE_FILE=str(tmp_path / "queue.db"),
              IMPORT_JOBS_DIR=str(tmp_path / "jobs"))
    tasks.configure(app)
    env = {**os.environ, "DATABASE_URL": db_url, "CREDTRACK_INSTANCE_PATH": str(tmp_path / "instance"),
           "CREDTRACK_QUEUE_FILE": str(tmp_path / "queue.db"), "CREDTRACK_IMPORT_JOBS_DIR": str(tmp_path / "jobs"),
           "CREDTRACK_LANGUAGE": "en", "SECRET_KEY": "test-secret"}
    env.pop("CREDTRACK_REDIS_URL", None)
    yield env
    configure(app, QUEUE_IMMEDIATE=True)
    tasks.configure(app)


def test_a_worker_killed_mid_import_leaves_the_database_unchanged_and_the_task_failed(
        app, engine, client, auth, real_queue, tmp_path):
    auth.login("supervisor")
    # an item already there: the import is written in its short chunks (a
    # first load into an empty database goes in one transaction:
    # tests/test_import_bulk.py)
    first = tmp_path / "first.csv"
    first.write_bytes(manifest_bytes([row("K-FIRST")]))
    from credential_track.services.imports import import_manifest

    assert import_manifest(engine, first, batch="first").new == 1
    before = _count(engine)
    rows = [row(f"K{i:06d}", phone=f"138{i:08d}") for i in range(30000)]
    with app.app_context():  # as the upload page does (a test client leaks a large upload's spool file)
        job = task_imports.submit(filename="killed.csv", stream=io.BytesIO(manifest_bytes(rows)), batch="killed",
                                  skip_invalid=False, update=False, user_id=None, lang="en")
    page = client.get(f"/imports/jobs/{job}").get_data(as_text=True)
    assert 'id="job-queued"' in page  # no worker yet: queued, not running

    worker = _worker(real_queue)
    try:
        # the page's progress, fed by the task, moves while the worker runs it
        seen = _wait(lambda: (s := client.get(f"/imports/jobs/{job}.json").get_json())["state"] == "running"
                     and s["done"] > 0 and s, 120, "progress")
        assert seen["total"] >= 2 * 30000
        page = client.get(f"/imports/jobs/{job}").get_data(as_text=True)
        bar = re.search(r'<progress id="job-progress" max="(\d+)" value="(\d+)"', page)
        assert bar and int(bar.group(1)) >= 60000 and int(bar.group(2)) > 0  # the bar, fed by the task
        _wait(lambda: _writing(engine) and _count(engine) > before, 120, "the write phase")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        _stop(worker)
    assert _count(engine) > before  # rows of the killed run are in the database …
    state = client.get(f"/imports/jobs/{job}.json").get_json()
    assert state["state"] == "failed"  # … and the task is not shown running
    page = client.get(f"/imports/jobs/{job}").get_data(as_text=True)
    assert 'id="job-retry"' in page

    worker = _worker(real_queue)  # a new worker undoes what the killed one left, as it starts
    try:
        _wait(lambda: not _writing(engine) and _count(engine) == before, 120, "the undo")
        assert records.get(job)["state"] == "failed"
        resp = client.post(f"/imports/jobs/{job}/retry", data={"csrf_token": auth.csrf})
        assert resp.status_code == 302
        done = _wait(lambda: (s := records.get(job))["state"] in ("done", "failed") and s, 180, "the retry")
    finally:
        _stop(worker)
    assert done["state"] == "done" and done["result"]["new"] == 30000, done
    assert _count(engine) == before + 30000


def test_an_export_is_prepared_on_the_queue_and_downloaded_by_its_requester(app, engine, tmp_path, client, auth):
    from openpyxl import load_workbook

    from .test_import_pages import upload

    configure(app, IMPORT_JOBS_DIR=str(tmp_path))
    auth.login("supervisor")
    upload(client, auth, [row("X1"), row("X2"), row("X3")])
    client.post("/logout", data={"csrf_token": auth.csrf})
    auth.login("organizer")
    resp = client.post("/exports/jobs", data={"csrf_token": auth.csrf, "format": "xlsx", "personal": "1"})
    assert resp.status_code == 302
    page_url = resp.headers["Location"]
    job = page_url.rsplit("/", 1)[1]
    assert client.get(f"/exports/jobs/{job}.json").get_json() == {"state": "done", "done": 3, "total": 3}
    page = client.get(page_url).get_data(as_text=True)
    assert f"/exports/jobs/{job}/file" in page
    with client.get(f"/exports/jobs/{job}/file") as f:
        assert f.status_code == 200
        out = tmp_path / "x.xlsx"
        out.write_bytes(f.data)
    wb = load_workbook(out, read_only=True)
    assert [r[0] for r in wb.active.iter_rows(min_row=2, values_only=True)] == ["X1", "X2", "X3"]
    wb.close()
    assert job in client.get("/exports/").get_data(as_text=True)  # listed among the requester's exports
    client.post("/logout", data={"csrf_token": auth.csrf})
    auth.login("admin")
    assert client.get(f"/exports/jobs/{job}/file").status_code == 404  # someone else's export
    client.post("/logout", data={"csrf_token": auth.csrf})
    auth.login("supervisor", username="sup2")
    resp = client.post("/exports/jobs", data={"csrf_token": auth.csrf, "format": "csv", "personal": "1"})
    assert resp.status_code == 403  # personal data: not for a supervisor


def test_the_morning_report_is_kept_and_offered_on_the_dashboard(app, tmp_path, client, auth):
    configure(app, REPORT_DIR=str(tmp_path / "reports"))
    periodic.daily_report()
    with app.app_context():
        from credential_track import clock

        day = clock.yesterday()
        pdf, _xlsx = periodic.report_files(app, day)
    pdf.write_bytes(pdf.read_bytes() + b"%kept")  # mark the kept file: the download must be it
    auth.login("organizer")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert 'id="kept-reports"' in page and f"date={day.isoformat()}" in page
    with client.get(f"/dashboard/report.pdf?date={day.isoformat()}") as resp:
        assert resp.status_code == 200 and resp.data.endswith(b"%kept")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie of a process we did not start is reaped by init; read its state
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


def test_serve_runs_a_worker_on_the_embedded_queue_and_stops_it(app, engine, tmp_path, db_url):
    import urllib.request

    instance = tmp_path / "instance"
    env = {**os.environ, "DATABASE_URL": db_url, "CREDTRACK_INSTANCE_PATH": str(instance), "SECRET_KEY": "t",
           "CREDTRACK_LANGUAGE": "en"}
    for name in ("CREDTRACK_REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "CREDTRACK_QUEUE_FILE",
                 "CREDTRACK_IMPORT_JOBS_DIR"):
        env.pop(name, None)
    port = _free_port()
    serve = subprocess.Popen([sys.executable, "-m", "credential_track", "serve", "--port", str(port),
                              "--workers", "1", "--threads", "2"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    configure(app, QUEUE_IMMEDIATE=False, QUEUE_FILE=str(instance / "queue.db"),
              IMPORT_JOBS_DIR=str(instance / "imports"))
    tasks.configure(app)
    try:
        def up():
            try:
                return urllib.request.urlopen(base + "/readyz", timeout=2).status == 200
            except OSError:
                return False

        _wait(up, 60, "the server")
        children = _children(serve.pid)
        assert len(children) >= 2  # gunicorn's master and the queue's worker
        with app.app_context():
            job = task_imports.submit(filename="served.csv", stream=io.BytesIO(manifest_bytes([row("SV1")])),
                                      batch="served", skip_invalid=False, update=False, user_id=None, lang="en")
        done = _wait(lambda: (s := records.get(job))["state"] in ("done", "failed") and s, 60, "the import")
        assert done["state"] == "done" and done["result"]["new"] == 1
        body = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
        # counted in the worker process, answered by a gunicorn worker: one machine's processes summed
        assert 'credtrack_imports_total{outcome="committed"} 1.0' in body
    finally:
        serve.terminate()
        serve.wait(30)
        configure(app, QUEUE_IMMEDIATE=True)
        tasks.configure(app)
    _wait(lambda: all(_gone(p) for p in children), 15, "the server's children to stop")


def test_tasks_cli_lists_records_and_shows_why_one_failed(app, runner):
    job = records.new("import", title="m.csv", params={"name": "m.csv"})
    records.save({**job, "state": "running", "owner": "gone-host:1", "heartbeat": 1.0})
    periodic.dashboard_refresh()
    out = runner.invoke(args=["tasks", "list"]).output
    assert job["id"] in out and "failed" in out and "the worker running it stopped" in out
    assert "dashboard summary refresh" in out
    shown = runner.invoke(args=["tasks", "show", job["id"]])
    assert shown.exit_code == 1 and "manifest import" in shown.output
    listed = json.loads(runner.invoke(args=["tasks", "list", "--json"]).output)
    assert {t["id"]: t["state"] for t in listed["tasks"]}[job["id"]] == "failed"


def test_old_task_records_and_their_files_are_cleaned_up(app, tmp_path):
    configure(app, IMPORT_JOBS_DIR=str(tmp_path), TASK_KEEP_DAYS=7)
    now = time.time()
    old = records.new("export", title="old.csv", params={"format": "csv"})
    records.save({**old, "state": "done", "finished": now - 8 * 86400})
    fresh = records.new("export", title="new.csv", params={"format": "csv"})
    records.save({**fresh, "state": "done", "finished": now - 86400})
    running = records.new("import", title="big.csv", params={})
    records.save({**running, "created": now - 30 * 86400})  # queued long ago: not finished, kept
    for job in (old, fresh):
        (tmp_path / "exports" / job["id"]).mkdir(parents=True)
    orphan = tmp_path / ("f" * 32)  # an upload folder no record names (personal data)
    orphan.mkdir()
    os.utime(orphan, (now - 8 * 86400, now - 8 * 86400))
    for path in (tmp_path / "exports" / old["id"],):
        os.utime(path, (now - 8 * 86400, now - 8 * 86400))
    with app.app_context():
        gone = periodic.run_cleanup(app, now)
    assert gone == {"records": 1, "folders": 2}
    assert records.get(old["id"]) is None and records.get(fresh["id"]) and records.get(running["id"])
    assert not orphan.exists() and not (tmp_path / "exports" / old["id"]).exists()
    assert (tmp_path / "exports" / fresh["id"]).exists()


def test_on_redis_a_worker_process_runs_what_the_app_queues(app, engine, tmp_path, db_url):
    import uuid

    import redis

    from .test_redis_shared import REDIS_URL

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL} (.ci/run requires one)")
    name = f"credtrack-test-{uuid.uuid4().hex[:8]}"  # a queue of its own on a shared Redis
    configure(app, QUEUE_IMMEDIATE=False, REDIS_URL=REDIS_URL, QUEUE_NAME=name,
              IMPORT_JOBS_DIR=str(tmp_path / "jobs"))
    tasks.configure(app)
    env = {**os.environ, "DATABASE_URL": db_url, "CREDTRACK_INSTANCE_PATH": str(tmp_path / "worker"),
           "CREDTRACK_REDIS_URL": REDIS_URL, "CREDTRACK_QUEUE_NAME": name,
           "CREDTRACK_IMPORT_JOBS_DIR": str(tmp_path / "jobs"), "CREDTRACK_LANGUAGE": "en", "SECRET_KEY": "t"}
    worker = _worker(env)
    try:
        with app.app_context():
            job = task_imports.submit(filename="r.csv", stream=io.BytesIO(manifest_bytes([row("RD1"), row("RD2")])),
                                      batch="redis", skip_invalid=False, update=False, user_id=None, lang="en")
        done = _wait(lambda: (s := records.get(job))["state"] in ("done", "failed") and s, 60, "the import")
        assert done["state"] == "done" and done["result"]["new"] == 2
        assert done["owner"].endswith(f":{worker.pid}")  # run by the worker process, not here
    finally:
        _stop(worker)
        from credential_track.tasks.queue import huey

        huey.flush()  # the test's queue and records leave the shared Redis
        configure(app, QUEUE_IMMEDIATE=True, REDIS_URL="", QUEUE_NAME="credtrack")
        tasks.configure(app)
