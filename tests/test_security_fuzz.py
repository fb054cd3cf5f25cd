"""Malformed JSON to the write APIs: only 400s naming a field, never a 500,
and nothing written."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import Session, select

from credential_track.db import write_session
from credential_track.services import accounts

from .factories import PASSWORD, make_credential

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5))
not_string = st.one_of(st.booleans(), st.integers(), st.floats(allow_nan=False),
                       st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=3), scalars, max_size=3))
VALID = {"code": "FUZZ-1", "action": "handover", "station": "WS-01", "nonce": "fuzz-nonce"}


def _corrupt_field():
    """A valid scan with exactly one field made malformed."""
    missing = st.sampled_from(["code", "action", "nonce"]).map(lambda f: ("drop", f, None))
    wrong_type = st.tuples(st.just("set"), st.sampled_from(["code", "action", "nonce", "scanned_at"]), not_string)
    bad_action = st.tuples(st.just("set"), st.just("action"),
                           st.text(min_size=1, max_size=20).filter(lambda a: a not in {
                               "handover", "capture", "accept", "bag", "unbag", "seal", "load", "arrive", "pull"}))
    too_long = st.tuples(st.just("set"), st.sampled_from(["code", "nonce"]),
                         st.text(alphabet="AB9", min_size=65, max_size=90))
    bad_time = st.tuples(st.just("set"), st.just("scanned_at"),
                         st.text(alphabet="0123456789-:TZ x", min_size=1, max_size=30).filter(_not_iso))
    bad_context = st.tuples(st.just("set"), st.just("context"),
                            st.one_of(st.lists(scalars, max_size=3), st.text(max_size=5), st.integers(),
                                      st.booleans()).filter(lambda v: v not in (None, "")))
    bad_context_value = st.tuples(st.just("ctx"), st.sampled_from(["bag", "waybill", "seal", "trip", "weight_g"]),
                                  st.one_of(st.lists(scalars, min_size=0, max_size=2),
                                            st.dictionaries(st.text(max_size=3), scalars, max_size=2)))
    bad_weight = st.tuples(st.just("ctx"), st.just("weight_g"),
                           st.one_of(st.booleans(), st.floats(allow_nan=False),
                                     st.text(min_size=1, max_size=6).filter(lambda s: not s.isdigit())))
    with_nul = st.tuples(st.just("set"), st.sampled_from(["code", "nonce", "station", "scanned_at"]),
                         st.text(max_size=5).map(lambda t: t + "\x00"))
    nul_in_context = st.tuples(st.just("ctx"), st.sampled_from(["bag", "waybill", "seal"]), st.just("B\x00"))
    return st.one_of(missing, wrong_type, bad_action, too_long, bad_time, bad_context, bad_context_value,
                     bad_weight, with_nul, nul_in_context)


def _not_iso(value: str) -> bool:
    from datetime import datetime

    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return False
    except ValueError:
        return True


def _apply(change) -> dict:
    op, field, value = change
    body = dict(VALID)
    if op == "drop":
        body.pop(field)
    elif op == "set":
        body[field] = value
    else:
        body["context"] = {field: value}
    return body


raw_bodies = st.one_of(
    st.binary(max_size=40).filter(lambda b: not _is_json_object(b)),
    st.sampled_from([b"", b"{", b"[]", b"null", b"42", b'"text"', b"{'code': 1}", b'{"code": "A",}',
                     b"\xff\xfe{", b'{"code": NaN}']),
    st.recursive(scalars, lambda c: st.lists(c, max_size=3), max_leaves=5).map(lambda v: json.dumps(v).encode()),
)


def _is_json_object(b: bytes) -> bool:
    try:
        return isinstance(json.loads(b), dict)
    except ValueError:
        return False


def _snapshot(engine) -> tuple:
    with engine.connect() as conn:
        return tuple(conn.execute(text(f"SELECT count(*), max(id) FROM {t}")).one()
                     for t in ("event", "credential", "bag", "trip")) + \
            tuple(conn.execute(text("SELECT status FROM credential ORDER BY id")).scalars())


def test_nul_in_a_form_or_query_string_is_refused_not_a_server_error(client, auth):
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    assert client.post("/login", data={"username": "ad\x00min", "password": "x", "csrf_token": token}).status_code == 400
    auth.login("admin")
    assert auth.client.get("/audit/", query_string={"item": "A\x00"}).status_code == 400
    api = auth.client.get("/api/v1/audit/events", query_string={"user": "\x00"})
    assert api.status_code == 400 and api.json["field"] == "user"
    path = auth.client.get("/api/v1/credentials/A%00B")
    assert path.status_code == 400 and path.json["field"] == "credential_no"


def _assert_400_naming_a_field(resp):
    assert resp.status_code == 400, (resp.status_code, resp.get_data(as_text=True))
    body = resp.get_json()
    assert body and body.get("error") and body.get("field"), body
    assert body["field"].split(".")[-1] in body["error"], body


@pytest.fixture
def scan_setup(engine, station_token):
    with write_session(engine) as s:
        make_credential(s, credential_no="FUZZ-1")
    return station_token("WS-01")


def test_malformed_scan_fields_get_400_naming_the_field_and_write_nothing(client, engine, scan_setup):
    before = _snapshot(engine)

    @FUZZ
    @given(change=_corrupt_field())
    def check(change):
        _assert_400_naming_a_field(client.post("/api/v1/scans", json=_apply(change), headers=scan_setup))

    check()
    assert _snapshot(engine) == before


def test_malformed_scan_bodies_get_400_and_write_nothing(client, engine, scan_setup):
    before = _snapshot(engine)

    @FUZZ
    @given(raw=raw_bodies, content_type=st.sampled_from(["application/json", "text/plain", None]))
    def check(raw, content_type):
        headers = dict(scan_setup)
        if content_type:
            headers["Content-Type"] = content_type
        _assert_400_naming_a_field(client.post("/api/v1/scans", data=raw, headers=headers))

    check()
    assert _snapshot(engine) == before


def test_malformed_delivery_event_batches_get_400_and_write_nothing(app, client, engine):
    if not any(r.rule == "/api/v1/delivery-events" for r in app.url_map.iter_rules()):
        pytest.skip("POST /api/v1/delivery-events is not part of this build")
    with write_session(engine) as s:
        accounts.create_user(s, username="feed", password=PASSWORD, role="supervisor")
        headers = {"Authorization": f"Bearer {accounts.create_token(s, username='feed').secret}"}
    before = _snapshot(engine)
    batches = st.one_of(
        raw_bodies.map(lambda b: ("raw", b)),
        st.one_of(st.just({}), st.fixed_dictionaries({"events": st.one_of(
            st.none(), st.booleans(), st.integers(), st.text(max_size=5),
            st.dictionaries(st.text(max_size=3), scalars, max_size=2))}),
            st.fixed_dictionaries({"events": st.lists(st.one_of(scalars, st.lists(scalars, max_size=2)),
                                                      min_size=1, max_size=3).filter(
                lambda evs: any(not isinstance(e, dict) for e in evs))})).map(lambda d: ("json", d)),
    )

    @FUZZ
    @given(batch=batches)
    def check(batch):
        kind, body = batch
        if kind == "raw":
            resp = client.post("/api/v1/delivery-events", data=body,
                               headers={**headers, "Content-Type": "application/json"})
        else:
            resp = client.post("/api/v1/delivery-events", json=body, headers=headers)
        _assert_400_naming_a_field(resp)

    check()
    assert _snapshot(engine) == before


# --- every JSON endpoint, every field: hostile values are 4xx, never a 500 ---

DEEP = "__deep__"  # stands for a JSON value nested 1,000 levels deep (built as text)
HOSTILE_SCALARS = [
    2 ** 63, -(2 ** 63) - 1, 2 ** 64, 10 ** 30, 2 ** 31, 2 ** 31 - 1, -(2 ** 31) - 1, -1, 0, 1.5, 1e300,
    "²", "١٢", "12²", "9" * 19, "9" * 40, "-1", "1e5", " 7", "\ud800", "a\udfffb", "\udc00" * 3,
    "x" * 301, "界" * 65, "x" * 2000, "", " ", True, False, None, [], {}, ["x"], {"a": 1},
    [[[[[[[[[[]]]]]]]]]], DEEP,
]
hostile = st.one_of(st.sampled_from(HOSTILE_SCALARS), st.integers(), st.text(max_size=40),
                    st.text(alphabet="²³¹０１９٣\ud800\udbff\x7f", min_size=1, max_size=5))
hostile_text = st.one_of(
    st.sampled_from(["²", "9" * 30, "-1", "x" * 300, "A%00B", "%ED%A0%80", "%F0%9F%92%A9", "..", "0",
                     "18446744073709551616", "9223372036854775808", "2147483648", "FZ-1", "1e9", ""]),
    st.text(alphabet="09²-x界%", min_size=1, max_size=25))
# every field of every endpoint meets each value that once made a 500: longer
# than any column, beyond 32 and 64 bits, "²", a lone surrogate, nested deep
GRID = ["x" * 70, "x" * 501, 2 ** 63, 2 ** 31, -1, "²", "a\ud800", DEEP, [], {}, True, 1.5, None]


def _encode(body) -> str:
    """The body as JSON text, the deep marker replaced by 1,000 nested lists."""
    return json.dumps(body).replace(json.dumps(DEEP), "[" * 1000 + "]" * 1000)


class Fresh:
    """New objects at the stage a request needs, so that each hostile value
    reaches the code that stores it (an item accepted once answers
    `already_done` ever after, before its weight is looked at)."""

    def __init__(self, engine):
        from itertools import count

        from credential_track.domain.regions import route_for

        self.engine, self.seq = engine, count(1000)
        self.route = route_for("上海市", "浦东新区")

    def item(self, status: str = "registered", **kw) -> str:
        from credential_track.domain.codes import make_s10

        n = next(self.seq)
        with write_session(self.engine) as s:
            waybill = make_s10("EE", n) if status not in ("registered", "received") else None
            return make_credential(s, credential_no=f"FR-{n}", status=status, waybill_no=waybill, **kw).credential_no

    def waybill(self) -> str:
        from credential_track.domain.codes import make_s10

        return make_s10("EE", 50_000_000 + next(self.seq))

    def bag(self, *, with_item: bool = True) -> str:
        from .factories import do_scan, open_bag

        bag = open_bag(self.engine, self.route)
        if with_item:
            assert do_scan(self.engine, self.item("accepted"), "bag", "WS-07", bag=bag).result == "ok"
        return bag

    def sealed_bag(self) -> tuple[str, str]:
        from .factories import do_scan

        bag, seal = self.bag(), f"SEAL-{next(self.seq):06d}"
        assert do_scan(self.engine, bag, "seal", "WS-07", seal=seal).result == "ok"
        return bag, seal

    def trip(self) -> str:
        from .factories import make_trip

        return make_trip(self.engine)

    def bag_in_transit(self) -> tuple[str, str]:
        from credential_track.services import dispatch

        from .factories import do_scan

        (bag, seal), trip = self.sealed_bag(), self.trip()
        assert do_scan(self.engine, bag, "load", "WS-09", trip=trip).result == "ok"
        with write_session(self.engine) as s:
            dispatch.depart_trip(s, code=trip)
        return bag, seal

    def scan_event(self) -> int:
        from .factories import do_scan

        return do_scan(self.engine, self.item("registered"), "handover", "WS-01").event_id

    def batch(self) -> int:
        from credential_track.models import HandoverBatch

        with write_session(self.engine) as s:
            b = HandoverBatch(name=f"fuzz-{next(self.seq)}", expected=0)
            s.add(b)
            s.flush()
            return b.id


@pytest.fixture
def world(engine):
    with write_session(engine) as s:
        accounts.create_user(s, username="fuzz-admin", password=PASSWORD, role="admin")
        secret = accounts.create_token(s, username="fuzz-admin").secret
        make_credential(s, credential_no="FZ-1", hold=True, hold_reason="fuzz")
        make_credential(s, credential_no="FZ-3", status="captured", waybill_no="EE100000048CN")
    fresh = Fresh(engine)
    return {"headers": {"Authorization": f"Bearer {secret}"}, "fresh": fresh, "bag": fresh.bag(),
            "trip": fresh.trip(), "batch": str(fresh.batch())}


def _endpoints(w: dict) -> list[tuple]:
    """(method, path, body maker or None, query names) for every /api/v1
    rule; a body maker builds fresh objects; a path segment in <…> is
    replaced by a drawn value."""
    f = w.get("fresh")
    return [
        ("POST", "/api/v1/scans", lambda: {"code": f.item("captured"), "action": "accept", "station": "WS-05",
                                           "nonce": "N", "context": {"weight_g": 45}}, ()),
        ("POST", "/api/v1/scans", lambda: {"code": f.item("accepted"), "action": "bag", "station": "WS-07",
                                           "nonce": "N", "context": {"bag": f.bag(with_item=False)}}, ()),
        ("POST", "/api/v1/scans", lambda: {"code": f.bag(), "action": "seal", "station": "WS-07", "nonce": "N",
                                           "context": {"seal": "SEAL-000001"}}, ()),
        ("POST", "/api/v1/scans", lambda: {"code": f.sealed_bag()[0], "action": "load", "station": "WS-09",
                                           "nonce": "N", "context": {"trip": f.trip()}}, ()),
        ("POST", "/api/v1/scans", lambda: dict(zip(("code", "context"), (lambda b: (b[0], {"seal": b[1]}))(
            f.bag_in_transit())), action="arrive", station="WS-10", nonce="N"), ()),
        ("POST", "/api/v1/scans", lambda: {"code": f.item("received"), "action": "capture", "station": "WS-02",
                                           "nonce": "N", "context": {"waybill": f.waybill()},
                                           "scanned_at": "2026-11-05T09:12:03Z"}, ()),
        ("POST", "/api/v1/scans", lambda: {"code": f.item(), "action": "handover", "station": "WS-01",
                                           "nonce": "N", "context": {"batch": w["batch"]}}, ()),
        ("POST", "/api/v1/bags", lambda: {"route": f.route, "station": "WS-07"}, ()),
        ("POST", "/api/v1/trips", lambda: {"vehicle": "沪A", "driver": "王", "escorts": ["李", "赵"], "origin": "A",
                                           "destination": "B", "station": "WS-09"}, ()),
        ("POST", "/api/v1/trips/<code>/depart", lambda: {}, ()),
        ("POST", "/api/v1/tokens", lambda: {"station": "WS-01", "role": "operator", "name": "n", "days": 30}, ()),
        ("POST", "/api/v1/tokens/<int:token_id>/revoke", lambda: {}, ()),
        ("POST", "/api/v1/tokens/<int:token_id>/expire", lambda: {}, ()),
        ("POST", "/api/v1/credentials/<credential_no>/reveal", lambda: {"reason": "caller confirmed"}, ()),
        ("POST", "/api/v1/delivery-events", lambda: {"events": [{
            "waybill": f.item("arrived") and _waybill_of(f), "event": "EMH", "at": "2026-11-05T09:12:03+08:00",
            "location": "x", "reason": "y"}]}, ()),
        ("POST", "/api/v1/handover-batches/<ref>/receive", lambda: {"counted": 3, "station": "WS-01"}, ()),
        ("POST", "/api/v1/handover-batches/<ref>/close", lambda: {}, ()),
        ("POST", "/api/v1/station/recipient/<path:code>", lambda: {
            "changes": {"recipient_phone": "13900001111", "recipient_name": "李四", "address": "世纪大道1号",
                        "postcode": "200120", "province": "上海", "district": "浦东新区", "city": "上海市"},
            "station": "WS-03"}, ()),
        ("POST", "/api/v1/corrections/undo", lambda: {"event_id": f.scan_event(), "reason": "wrong",
                                                      "station": "WS-01"}, ()),
        ("POST", "/api/v1/corrections/reopen", lambda: {"bag": f.sealed_bag()[0], "reason": "r",
                                                        "station": "WS-07"}, ()),
        ("POST", "/api/v1/corrections/release", lambda: {"code": f.item(hold=True, hold_reason="h"), "reason": "r",
                                                         "station": "WS-01"}, ()),
        ("GET", "/api/v1/audit/events", None, ("item", "user", "station", "action", "result", "since", "until",
                                               "before", "limit")),
        ("GET", "/api/v1/changes", None, ("after", "limit")),
        ("GET", "/api/v1/corrections/held", None, ()),
        ("GET", "/api/v1/credentials", None, ("status", "route", "limit", "after")),
        ("GET", "/api/v1/credentials/<credential_no>", None, ()),
        ("GET", "/api/v1/dashboard", None, ()),
        ("GET", "/api/v1/forecast", None, ()),
        ("GET", "/api/v1/handover-batches", None, ()),
        ("GET", "/api/v1/handover-batches/<ref>", None, ()),
        ("GET", "/api/v1/handover-batches/<ref>/discrepancies.csv", None, ()),
        ("GET", "/api/v1/incidents", None, ("limit",)),
        ("GET", "/api/v1/lookup", None, ("q",)),
        ("GET", "/api/v1/station/<station>/bags", None, ()),
        ("GET", "/api/v1/station/<station>/pull-tray", None, ("limit",)),
        ("GET", "/api/v1/station/bags/<code>", None, ()),
        ("GET", "/api/v1/station/capture/<path:code>", None, ()),
        ("GET", "/api/v1/station/trips", None, ("state",)),
        ("GET", "/api/v1/stations", None, ()),
        ("GET", "/api/v1/stats", None, ()),
        ("GET", "/api/v1/tokens", None, ("state",)),
        ("GET", "/api/v1/users", None, ("q",)),
        ("GET", "/api/v1/openapi.json", None, ()),
        ("GET", "/api/v1/docs", None, ()),
    ]


def _waybill_of(fresh: Fresh) -> str:
    from credential_track.models import Credential

    with Session(fresh.engine) as s:
        return s.exec(select(Credential.waybill_no).where(Credential.waybill_no.is_not(None))
                      .order_by(Credential.id.desc())).first()


def _fields(body) -> list[tuple]:
    """Every key path of a body (lists by index), leaves and containers."""
    out = []

    def walk(value, path):
        if isinstance(value, dict):
            for k, v in value.items():
                out.append(path + (k,))
                walk(v, path + (k,))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                out.append(path + (i,))
                walk(v, path + (i,))

    walk(body, ())
    return out


def _set(body, path, value):
    target = body
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value
    return body


def _send(client, world, method, path, body, query=None):
    headers = dict(world["headers"])
    if body is not None:
        headers["Content-Type"] = "application/json"
    return client.open(path, method=method, query_string=query or {}, headers=headers,
                       data=None if body is None else _encode(body))


def _fine(resp) -> bool:
    """Not a server error; a 400 is JSON naming its field."""
    if resp.status_code >= 500:
        return False
    return resp.status_code != 400 or bool((resp.get_json(silent=True) or {}).get("field"))


def test_every_api_endpoint_is_covered_by_the_fuzz(app):
    rules = {(m, r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/api/")
             for m in r.methods - {"HEAD", "OPTIONS"}}
    assert rules == {(m, p) for m, p, _b, _q in _endpoints({})}


def test_every_field_of_every_json_endpoint_against_each_known_crasher(client, engine, world):
    from itertools import count

    nonces, failures, tried = count(), [], 0
    for method, rule, make, _q in _endpoints(world):
        if make is None or "<" in rule:
            continue
        for where in _fields(make()):
            for value in GRID:
                body = make()
                if "nonce" in body:
                    body["nonce"] = f"grid-{next(nonces)}"
                with _send(client, world, method, rule, _set(body, where, value)) as resp:
                    tried += 1
                    if not _fine(resp):
                        failures.append((rule, body.get("action"), where, repr(value)[:20], resp.status_code,
                                         resp.get_data(as_text=True)[:120]))
    assert tried > 500 and failures == []


def test_hostile_values_in_any_field_of_any_json_endpoint_are_never_a_server_error(client, engine, world):
    import re as _re
    from itertools import count

    endpoints = _endpoints(world)
    nonces = count()

    @settings(max_examples=300, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(pick=st.integers(0, len(endpoints) - 1), data=st.data())
    def check(pick, data):
        method, rule, make, query_names = endpoints[pick]
        path = rule
        for seg in _re.findall(r"<[^>]+>", rule):
            if seg.startswith("<int:"):
                value = str(data.draw(st.one_of(st.integers(0, 10 ** 30), st.just(2 ** 63), st.just(1)), label=seg))
            else:
                value = data.draw(st.one_of(hostile_text, st.sampled_from(
                    ["FZ-1", "FZ-3", world["bag"], world["trip"], world["batch"], "WS-07"])), label=seg)
            path = path.replace(seg, value, 1)
        query = {}
        if query_names and data.draw(st.booleans(), label="with query"):
            query[data.draw(st.sampled_from(query_names), label="arg")] = data.draw(hostile_text, label="value")
        body = None
        if make is not None:
            body = make()
            if "nonce" in body:
                body["nonce"] = f"fuzz-{next(nonces)}"
            paths = _fields(body)
            if paths and data.draw(st.booleans(), label="mutate"):
                _set(body, data.draw(st.sampled_from(paths), label="field"), data.draw(hostile, label="value"))
        with _send(client, world, method, path, body, query) as resp:
            assert _fine(resp), (method, path, query, body and _encode(body)[:300],
                                 resp.status_code, resp.get_data(as_text=True)[:300])

    check()


SCAN = '{"code": "FZ-3", "action": "accept", "station": "WS-05", "nonce": "%s"'


@pytest.mark.parametrize("body, field", [
    (SCAN % "s1" + ', "code": "FZ-3\\ud800"}', "code"),
    (SCAN % "s2" + ', "context": {"weight_g": 9223372036854775808}}', "context.weight_g"),
    (SCAN % "s3" + ', "context": {"weight_g": 2147483648}}', "context.weight_g"),
    (SCAN % "s4" + ', "context": {"weight_g": "\\u00b2"}}', "context.weight_g"),
    (SCAN % "s5" + ', "context": ' + "[" * 1000 + "]" * 1000 + "}", "body"),
    (SCAN % "s6" + ', "context": ' + "[" * 30 + "]" * 30 + "}", "context" + "[0]" * 19),
    (SCAN % "s7" + ', "x": NaN}', "body"),
])
def test_each_known_crasher_is_a_400_naming_its_field(client, engine, world, body, field):
    before = _snapshot(engine)
    resp = client.post("/api/v1/scans", data=body, headers={**world["headers"], "Content-Type": "application/json"})
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]
    assert resp.json["field"] == field
    assert _snapshot(engine) == before


def test_escorts_and_seals_longer_than_their_columns_are_a_400_naming_the_field(client, world):
    resp = client.post("/api/v1/trips", json={"vehicle": "沪A", "driver": "王", "escorts": ["李" * 200, "赵" * 200],
                                              "origin": "A", "destination": "B", "station": "WS-09"},
                       headers=world["headers"])
    assert resp.status_code == 400 and resp.json["field"] == "escorts"
    resp = client.post("/api/v1/scans", json={"code": world["fresh"].bag(), "action": "seal", "station": "WS-07",
                                              "nonce": "long-seal", "context": {"seal": "S" * 33}},
                       headers=world["headers"])
    assert resp.status_code == 400 and resp.json["field"] == "context.seal"


@pytest.mark.parametrize("path", [
    "/api/v1/credentials?after=%C2%B2", "/api/v1/credentials?after=99999999999999999999",
    "/api/v1/credentials?after=2147483648", "/api/v1/changes?after=%C2%B2",
    "/api/v1/station/WS-01/pull-tray?limit=99999999999999999999", "/api/v1/audit/events?before=%C2%B2",
    "/api/v1/tokens/99999999999999999999/revoke", "/api/v1/tokens/2147483648/revoke",
    "/api/v1/handover-batches/99999999999999999999"])
def test_numbers_in_query_strings_and_paths_beyond_the_columns_or_not_ascii_are_4xx(client, world, path):
    resp = client.open(path, method="POST" if path.endswith("revoke") else "GET", headers=world["headers"])
    assert 400 <= resp.status_code < 500, resp.get_data(as_text=True)[:300]
