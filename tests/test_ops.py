"""What the technical-support desks and the load balancer see: /healthz,
/readyz, /metrics (and who may read it), the tech-support page."""
from __future__ import annotations

import re

from credential_track import tasks
from credential_track.db import write_session
from credential_track.tasks import records

from .factories import configure, do_scan, make_credential


def test_healthz_and_readyz_answer(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    resp = client.get("/readyz")
    assert resp.status_code == 200 and resp.get_json() == {"database": "ok", "queue": "ok"}


def test_readyz_is_503_when_the_queue_does_not_answer(app, client):
    configure(app, QUEUE_IMMEDIATE=False, REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    tasks.configure(app)
    try:
        resp = client.get("/readyz")
        assert resp.status_code == 503 and resp.get_json() == {"database": "ok", "queue": "unreachable"}
        assert client.get("/healthz").status_code == 200  # the process itself is up
    finally:
        configure(app, QUEUE_IMMEDIATE=True, REDIS_URL="")
        tasks.configure(app)


def _metric(body: str, name: str, **labels) -> float:
    for line in body.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_scans_logins_and_the_queue(app, engine, client, auth):
    before = client.get("/metrics").get_data(as_text=True)
    with write_session(engine) as s:
        make_credential(s, credential_no="MET-1")
    do_scan(engine, "MET-1", "handover", "WS-01")
    do_scan(engine, "MET-1", "handover", "WS-01")  # already done: a refusal
    client.post("/login", data={"username": "nobody", "password": "wrong-password", "csrf_token": auth.token("/login")})
    body = client.get("/metrics").get_data(as_text=True)
    ok = dict(action="handover", result="ok", station="WS-01")
    rejected = dict(action="handover", result="rejected", station="WS-01")
    assert _metric(body, "credtrack_scans_total", **ok) == _metric(before, "credtrack_scans_total", **ok) + 1
    assert _metric(body, "credtrack_scans_total", **rejected) == \
        _metric(before, "credtrack_scans_total", **rejected) + 1
    assert _metric(body, "credtrack_scan_seconds_count") == _metric(before, "credtrack_scan_seconds_count") + 2
    assert "credtrack_queue_depth 0.0" in body
    assert _metric(body, "credtrack_login_failures_total") == _metric(before, "credtrack_login_failures_total") + 1


def test_metrics_count_task_runs_from_the_queue_store(app, tmp_path, client):
    from credential_track.tasks import periodic

    configure(app, REPORT_DIR=str(tmp_path))
    periodic.dashboard_refresh()
    body = client.get("/metrics").get_data(as_text=True)
    assert _metric(body, "credtrack_task_runs_total", task="dashboard_refresh", result="ok") >= 1
    assert 'credtrack_task_seconds_total{task="dashboard_refresh"}' in body


def test_metrics_only_for_the_allowed_addresses_or_the_token(app, client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403
    configure(app, METRICS_TOKEN="s3cret-scrape")
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"},
                      headers={"Authorization": "Bearer s3cret-scrape"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"},
                      headers={"Authorization": "Bearer wrong"}).status_code == 403


def test_support_page_shows_failed_tasks_with_their_reason_and_the_last_backup(app, tmp_path, client, auth, runner):
    job = records.new("export", title="credential-status.csv", params={"format": "csv"})
    records.save({**job, "state": "running", "owner": "gone-host:1", "heartbeat": 1.0})  # a worker long gone
    if app.extensions["credtrack_engine"].dialect.name == "sqlite":  # PostgreSQL's needs pg_dump
        result = runner.invoke(args=["backup", str(tmp_path / "b.db")])
        assert result.exit_code == 0, result.output
    auth.login("supervisor")
    client.post("/lang/en", data={"csrf_token": auth.csrf})
    page = client.get("/support/").get_data(as_text=True)
    assert "the worker running it stopped" in page and 'class="job-failed"' in page
    assert re.search(r'id="ready-database">answers<', page) and re.search(r'id="ready-queue">answers', page)
    assert 'id="periodic-outreach_sweep"' in page and "outreach sweep" in page
    if app.extensions["credtrack_engine"].dialect.name == "sqlite":
        assert str(tmp_path / "b.db") in page
    client.post("/logout", data={"csrf_token": auth.csrf})
    auth.login("operator")
    assert client.get("/support/").status_code == 403


def test_every_answer_carries_a_request_id_and_the_access_log_is_json_lines_with_it():
    import io
    import json
    import logging
    from datetime import timedelta

    from gunicorn.config import Config

    from credential_track import create_app
    from credential_track.access_log import PrivateAccessLogger
    from credential_track.cli.commands import gunicorn_settings

    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "t", "QUEUE_IMMEDIATE": True})
    client = app.test_client()
    rid = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid) and client.get("/healthz").headers["X-Request-ID"] != rid
    assert client.get("/healthz", headers={"X-Request-ID": "lb-7f3a-0001"}).headers["X-Request-ID"] == "lb-7f3a-0001"
    assert client.get("/healthz", headers={"X-Request-ID": 'x" y'}).headers["X-Request-ID"] != 'x" y'
    app.extensions["credtrack_engine"].dispose()

    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", gunicorn_settings(host="h", port=1, workers=1, threads=1)["access_log_format"])
    logger = PrivateAccessLogger(cfg)
    stream = io.StringIO()
    logger.access_log.handlers = [logging.StreamHandler(stream)]

    class Resp:
        status, sent = "200 OK", 10
        headers = [("X-Request-ID", "lb-7f3a-0001")]

    environ = {"REQUEST_METHOD": "GET", "RAW_URI": '/desk/?q=13812345678&x="', "PATH_INFO": "/desk/",
               "QUERY_STRING": "q=13812345678", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.1",
               "HTTP_USER_AGENT": 'scanner "v2"'}
    logger.access(Resp(), [], environ, timedelta(seconds=0.01))
    line = json.loads(stream.getvalue())
    assert line["request_id"] == "lb-7f3a-0001" and line["request"] == "GET /desk/?- HTTP/1.1"
    assert line["status"] == "200" and line["user_agent"] == 'scanner "v2"'
