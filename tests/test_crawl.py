"""Every page of every role, with the demo data, in Chinese and in English.

A page in Chinese fails on an English phrase left untranslated, on a raw
code where people expect words (a status, reason or action code, a route
code without its name) and on a time in UTC; a page in English fails on
Chinese left behind. Data people typed or imported (names, addresses,
organizations, notes, …) is taken out first: it is shown as it is.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import DateTime, String, Text, select
from sqlmodel import Session

from credential_track import clock, vocabulary
from credential_track.db import write_session
from credential_track.models import Credential, HandoverBatch, Ticket, metadata
from credential_track.permissions import allowed
from credential_track.services import outreach, tickets
from credential_track.services.demo import build_demo

from .conftest import Auth
from .factories import do_scan, open_bag

report_seen: dict[str, int] = {}
ROLES = ("admin", "supervisor", "operator", "agent", "organizer")
# stations whose pages together offer every scan action
STATIONS = ("WS-01", "WS-03", "WS-07", "WS-09")
DEMO_NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)

# words that are the same in both languages (units, formats, the product's codes)
NEUTRAL = re.compile(r"\{\w+\}|\b(?:EMS|CSV|XLSX|PDF|ZPL|QR|VIP|SLA|API|ID|Esc|F2|UTC[+-]\d+(?::\d\d)?|U\+[0-9A-F]{4,6})\b"
                     r"|[\w/.-]+\.(?:py|md|csv|xlsx|pdf)\b")


class _Visible(HTMLParser):
    """The text a person sees: text nodes outside script/style, the words of
    placeholders, titles and buttons, and the words a page hands its scripts
    (#scan-texts, #vocabulary)."""

    WORD_ATTRS = ("placeholder", "title", "aria-label", "alt", "label")

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._page_lang = None
        self._stack: list[bool] = []  # per open element: does it hide its text?

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self._page_lang = a.get("lang")
        # data (translate="no") and text in another language on purpose
        # (the language switch says "English" in English) are not the page's words
        hides = tag in ("script", "style") or a.get("translate") == "no" or (
            "lang" in a and tag != "html" and a["lang"] != self._page_lang)
        if tag not in self.VOID:
            self._stack.append(hides)
            if hides:
                self._skip += 1
        if self._skip:
            return
        for name in self.WORD_ATTRS:
            if a.get(name):
                self.parts.append(a[name])
        if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
            self.parts.append(a["value"])
        if a.get("id") == "scan-texts":
            self.parts += [v for k, v in a.items() if k.startswith("data-") and k != "data-zone" and v]
        if a.get("id") == "vocabulary":
            import json

            for labels in json.loads(a["data-json"]).values():
                self.parts += list(labels.values())

    def handle_endtag(self, tag):
        if tag in self.VOID or not self._stack:
            return
        if self._stack.pop():
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> list[str]:
    p = _Visible()
    p.feed(html)
    return p.parts


# ---- the data set ---------------------------------------------------------------------------

def _build(engine):
    """The demo, and what the demo has not: tickets with notes, calls, outreach
    tasks, an intercept request, refused scans, a seal mismatch, a hold."""
    build_demo(engine, credentials=300, seed=11, now=DEMO_NOW)
    with Session(engine) as s:
        # items neither held nor revoked: the crawl puts one on hold itself
        rows = s.execute(select(Credential.credential_no, Credential.status)
                         .where(Credential.hold.is_(False), Credential.revoked.is_(False))
                         .order_by(Credential.id)).all()
    by_status: dict[str, list[str]] = {}
    for no, st in rows:
        by_status.setdefault(st, []).append(no)
    # refused scans: an already done one and a wrong route into a bag
    do_scan(engine, by_status["received"][0], "handover", "WS-01")
    bag = open_bag(engine, "XZ")
    do_scan(engine, by_status["accepted"][0], "bag", "WS-07", bag=bag)
    do_scan(engine, "NOPE-404", "handover", "WS-01")
    with write_session(engine) as s:
        from credential_track.models import User

        agent = s.execute(select(User.id).where(User.username == "agent")).scalar()
        item = by_status["captured"][0]
        call = tickets.log_call(s, line="HL-1", desk="CS-1", agent_id=agent, category="where_is_it",
                                caller_number="13800001111", credential_no=item, outcome="已告知进度",
                                duration_s=185)
        t = tickets.open_ticket(s, category="address_change", subject="改地址", priority="high", created_by=agent,
                                desk="CS-1", credential_nos=[item], call_id=call.id, note="来电要求改址")
        tickets.set_state(s, ticket_id=t.id, state="pending", user_id=agent)
        tickets.assign(s, ticket_id=t.id, assignee="agent", desk="CS-2", user_id=agent)
        tickets.hold(s, ticket_id=t.id, credential_no=item, reason="待核实", user_id=agent, station="CS-1")
        late = by_status["in_transit"][0]
        t2 = tickets.open_ticket(s, category="wrong_data", subject="信息有误", created_by=agent,
                                 credential_nos=[late])
        tickets.change_address(s, ticket_id=t2.id, credential_no=late, user_id=agent, station="CS-1",
                               fields={"address": "世纪大道100号8楼"})
        outreach.sweep(s, settings=outreach.OutreachSettings())
    return by_status


def _is_text(column) -> bool:
    t = column.type
    impl = getattr(t, "impl", t)
    return isinstance(t, (String, Text)) or isinstance(impl, (String, Text)) or (
        isinstance(impl, type) and issubclass(impl, (String, Text)))


def _data_strings(engine) -> set[str]:
    """Every text the people of the expo typed or imported: shown as it is."""
    skip_columns = {"status", "action", "result", "reason", "from_status", "to_status", "state", "kind", "role",
                    "rule", "outcome", "category", "priority", "credential_type", "route", "contact_problem",
                    "details", "response", "nonce", "password_hash", "hash", "actions", "label_format", "language",
                    "province", "detail", "secret_hash", "token_hash", "last_error", "body"}
    out: set[str] = set()
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name in ("route", "credentialtype"):
                continue  # the system's codes and their names (the vocabulary), not typed data
            cols = [c for c in table.columns if _is_text(c) and c.name not in skip_columns]
            if not cols:
                continue
            for row in conn.execute(select(*cols)):
                out.update(v for v in row if isinstance(v, str) and v.strip())
        # an agent's own notes, outcomes and replies are data; the system's
        # notes are words (vocabulary.note_text)
        from credential_track.models import Call, OutreachAttempt, TicketNote

        out.update(b for (b,) in conn.execute(select(TicketNote.body).where(TicketNote.kind == "note")))
        out.update(o for (o,) in conn.execute(select(Call.outcome)) if o)  # what the agent wrote
        out.update(n for (n,) in conn.execute(select(OutreachAttempt.note)) if n)
    out.update(u for u, *_ in __import__("credential_track.cli.commands", fromlist=["DEMO_USERS"]).DEMO_USERS)
    return {s for s in out if len(s) >= 2}


def _times(engine) -> tuple[set[str], set[str]]:
    """Every stored moment as `YYYY-MM-DD HH:MM`, in UTC and in the configured zone."""
    utc, local = set(), set()
    moments = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, DateTime) or c.type.__class__.__name__ ==
                    "UTCDateTime"]
            for c in cols:
                moments += [v for (v,) in conn.execute(select(c)) if v is not None]
    now = datetime.now(UTC)
    moments += [now + timedelta(minutes=m) for m in range(-5, 3)]
    for m in moments:
        m = clock.utc(m) if isinstance(m, datetime) else clock.parse(m)
        utc.add(m.strftime("%Y-%m-%d %H:%M"))
        local.add(clock.format_datetime(m))
    return utc, local


# ---- the pages --------------------------------------------------------------------------

def _plain_pages(app) -> list[str]:
    """Every GET page of the app that needs no argument (not the API, files
    or downloads)."""
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.rule.startswith(("/api/", "/static", "/print/")):
            continue
        if rule.rule.endswith((".csv", ".xlsx", ".pdf", ".json")) or rule.endpoint in ("auth.logout",):
            continue
        out.append(rule.rule)
    return sorted(out)


def _ids(engine, model) -> list[int]:
    with Session(engine) as s:
        return [i for (i,) in s.execute(select(model.id))]


def _pages_with_ids(engine, by_status) -> list[str]:
    with Session(engine) as s:
        ticket_ids = [t for (t,) in s.execute(select(Ticket.id))]
        batch_ids = [b for (b,) in s.execute(select(HandoverBatch.id))]
    items = [by_status[st][0] for st in ("registered", "captured", "in_transit", "delivered", "returned",
                                        "delivery_failed", "withdrawn") if by_status.get(st)]
    pages = [f"/desk/item/{no}" for no in items] + [f"/desk/tickets/{t}" for t in ticket_ids]
    pages += [f"/handover/{b}" for b in batch_ids] + [f"/handover/{batch_ids[0]}?station=WS-01"]
    pages += [f"/station/supervisor?code={items[1]}", "/desk/?q=" + items[2], "/desk/outreach?state=closed",
              "/desk/tickets?view=all", "/desk/calls?all=1", "/audit/?action=" + "交接",
              "/dashboard/items?exception=stuck", "/dashboard/items?status=delivered&sort=updated&dir=desc"]
    return pages


def _import_jobs(app, engine, header) -> list[str]:
    """The pages of two manifest uploads: one with a bad row and a row that
    differs from its stored item, one that is not a manifest at all."""
    import tempfile

    from .test_import_manifest import row
    from .test_import_pages import upload

    app.config.update(IMPORT_WAIT=True, IMPORT_JOBS_DIR=tempfile.mkdtemp(prefix="crawl-jobs-"))
    client = app.test_client()
    auth = Auth(client, engine).login("supervisor", username="supervisor")
    with Session(engine) as s:
        known = s.execute(select(Credential.credential_no).where(Credential.status == "captured")).scalars().first()
    import io

    good = upload(client, auth, [row("CRAWL-1"), row("CRAWL-2", post="1"), row(known, addr="人民路1号")],
                  skip_invalid="1")
    bad = client.post("/imports/", content_type="multipart/form-data",
                      data={"csrf_token": auth.csrf, "file": (io.BytesIO("备注\n1\n".encode()), "no-columns.csv")})
    assert good.status_code == bad.status_code == 302
    return [good.headers["Location"], bad.headers["Location"]]


def _station_pages(client, auth, station: str) -> list[tuple[str, str]]:
    from credential_track.services import stations

    client.post("/station/", data={"station": station, "csrf_token": auth.csrf})
    out = [("/station/home", station), ("/station/tray", station), ("/station/trips", station)]
    with Session(auth.engine) as s:
        actions = stations.station_info(s, station)["actions"]
    return out + [(f"/station/scan?action={a}", station) for a in actions]


# ---- the checks ------------------------------------------------------------------------------

_ENGLISH = re.compile(r"[A-Za-z]*[a-z]{2,}[A-Za-z]*")
_CODE = re.compile(r"(?<![\w-])[a-z]+(?:_[a-z]+)+(?![\w-])")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
_DATETIME = re.compile(r"\b(\d{4}-\d\d-\d\d) (\d\d:\d\d)")
_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
_UTC_WORD = re.compile(r"\bUTC\b(?![+-]\d)")


_MASKED = re.compile(r"\S*\*\S*")  # a masked name, phone or address


def _without_data(parts: list[str], data: list[str]) -> list[str]:
    out = []
    for text in parts:
        for d in data:  # longest first; a Latin datum only as a whole word
            if d in text:
                text = (re.sub(rf"(?<![\w-]){re.escape(d)}(?![\w-])", " ", text) if d.isascii()
                        else text.replace(d, " "))
        out.append(_MASKED.sub(" ", text))
    return out


def problems(html: str, lang: str, data: list[str], utc: set[str], local: set[str]) -> list[str]:
    """What is wrong with a page in `lang` (empty: nothing)."""
    found = []
    parts = visible_text(html)
    for text in parts:
        for code in _CODE.findall(text):
            found.append(f"raw code {code!r} in {text[:80]!r}")
        if lang == "zh":  # on the page's own text: a route's name may also be a typed city
            for code in vocabulary.ROUTES:
                for m in re.finditer(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text):
                    if not text[m.end():].startswith(" " + vocabulary.route_name(code, "zh")):
                        found.append(f"route code {code} without its name in {text[:80]!r}")
        if _ISO.search(text) or _UTC_WORD.search(text):
            found.append(f"a time in UTC or ISO form: {text[:80]!r}")
        for day, hm in _DATETIME.findall(text):
            shown = f"{day} {hm}"
            # a whole hour is also what hour-slot figures show (the staffing
            # page's best hour): it matches some stored moment's UTC form by
            # chance, depending on the time of day the test runs
            if shown in utc and shown not in local and not hm.endswith(":00"):
                found.append(f"a UTC time {shown} in {text[:80]!r}")
    for text in _without_data(parts, data):
        text = NEUTRAL.sub(" ", text)
        if lang == "zh":
            words = _ENGLISH.findall(text)
            if words:
                found.append(f"English {words[:4]} in {text[:80]!r}")
        else:
            if _CJK.search(text.replace("中文", "")):
                found.append(f"Chinese {_CJK.findall(text)[:3]} in {text[:80]!r}")
    return found


def crawl(app, engine, lang: str) -> dict[str, list[str]]:
    """{"role page": problems} for every page of every role in `lang`."""
    by_status = _build(engine)
    data = sorted(_data_strings(engine), key=len, reverse=True)
    utc, local = _times(engine)
    header = {"Accept-Language": "zh-CN" if lang == "zh" else "en"}
    report: dict[str, list[str]] = {}
    seen = 0

    def visit(client, role, path):
        nonlocal seen
        resp = client.get(path, headers=header, follow_redirects=True)
        if resp.status_code in (403, 404) or resp.mimetype != "text/html":
            return
        assert resp.status_code == 200, f"{role} {path}: {resp.status_code}"
        seen += 1
        bad = problems(resp.get_data(as_text=True), lang, data, utc, local)
        if bad:
            report[f"{role} {path}"] = bad

    public = app.test_client()
    for path in ("/login", "/track/"):
        visit(public, "public", path)
    with Session(engine) as s:
        tracked = s.execute(select(Credential.credential_no, Credential.phone_last4)
                            .where(Credential.status == "delivered")).first()
    resp = public.post("/track/", data={"credential_no": tracked[0], "last4": tracked[1],
                                        "csrf_token": Auth(public, engine).token("/track/")}, headers=header)
    bad = problems(resp.get_data(as_text=True), lang, data, utc, local)
    if bad:
        report["public POST /track/"] = bad
    def refused(client, role, path, form):
        """A form the service refuses: the page it comes back to says why."""
        resp = client.post(path, data={**form, "csrf_token": auth.csrf}, headers=header, follow_redirects=True)
        if resp.status_code in (403, 404):
            return
        bad = problems(resp.get_data(as_text=True), lang, data, utc, local)
        if bad:
            report[f"{role} POST {path}"] = bad

    ticket_id = min(_ids(engine, Ticket))
    job_pages = _import_jobs(app, engine, header)
    for role in ROLES:
        client = app.test_client()
        auth = Auth(client, engine).login(role, username=role)
        for path in _plain_pages(app) + _pages_with_ids(engine, by_status) + job_pages:
            visit(client, role, path)
        if allowed(role, "export"):  # an export prepared on the queue: its page, then the list that names it
            resp = client.post("/exports/jobs", data={"csrf_token": auth.csrf, "format": "xlsx"}, headers=header)
            assert resp.status_code == 302, f"{role} POST /exports/jobs: {resp.status_code}"
            visit(client, role, resp.headers["Location"])
            visit(client, role, "/exports/")
        if role in ("admin", "supervisor", "operator"):
            for station in STATIONS:
                for path, _st in _station_pages(client, auth, station):
                    visit(client, role, path)
            # WS-09 is the station chosen last
            refused(client, role, "/station/trips", {"vehicle": "沪A·1", "driver": "王", "escort": "李",
                                                      "destination": "上海"})
            refused(client, role, "/station/bags", {"route": "NOPE"})
        refused(client, role, "/desk/tickets", {"subject": "", "category": "other"})
        refused(client, role, f"/desk/tickets/{ticket_id}/state", {"state": "closed"})
        refused(client, role, f"/desk/tickets/{ticket_id}/action", {"action": "release", "credential_no": "NOPE"})
        refused(client, role, "/admin/users", {"username": "x", "password": "short", "role": "agent"})
        refused(client, role, "/desk/outreach/999999/claim", {})
    assert seen > 100, f"only {seen} pages crawled"
    report_seen[lang] = seen
    return report


@pytest.fixture
def demo_app(app, engine):
    # the demo's accounts log in with the test password
    from credential_track.cli.commands import DEMO_USERS
    from credential_track.services import accounts

    from .factories import PASSWORD

    with write_session(engine) as s:
        for username, role, name, _pw in DEMO_USERS:
            accounts.create_user(s, username=username, password=PASSWORD, role=role, display_name=name)
    return app


def test_every_page_of_every_role_speaks_chinese_with_words_and_local_times(demo_app, engine):
    report = crawl(demo_app, engine, "zh")
    assert report == {}, "\n".join(f"{page}: {p}" for page, bad in report.items() for p in bad)


def test_every_page_of_every_role_in_english_has_no_chinese_left_behind(demo_app, engine):
    report = crawl(demo_app, engine, "en")
    assert report == {}, "\n".join(f"{page}: {p}" for page, bad in report.items() for p in bad)


def test_the_checks_catch_english_raw_codes_and_utc_times():
    utc, local = {"2026-11-05 01:12"}, {"2026-11-05 09:12"}
    assert problems("<p>已交接</p><p>2026-11-05 09:12</p>", "zh", [], utc, local) == []
    assert problems("<p>Already done</p>", "zh", [], utc, local)
    assert problems("<td>already_done</td>", "zh", [], utc, local)
    assert problems("<td>2026-11-05 01:12</td>", "zh", [], utc, local)
    assert problems("<td>ZJ</td>", "zh", [], utc, local) and not problems("<td>ZJ 浙江</td>", "zh", [], utc, local)
    assert problems("<td>已妥投</td>", "en", [], utc, local)
    assert not problems("<td>张伟</td>", "en", ["张伟"], utc, local)
