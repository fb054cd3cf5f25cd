"""docs/SCHEMA.md lists every index of `credential` and `event` the
database has, and none it does not: an index has to earn its place there."""
from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "SCHEMA.md"


def _indexes(engine) -> set[str]:
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            rows = c.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index' "
                                     "AND tbl_name IN ('credential', 'event') AND sql IS NOT NULL").all()
        else:
            rows = c.exec_driver_sql(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename IN ('credential', 'event')").all()
            # the primary keys and the unique columns' own indexes (listed by column)
            rows = [r for r in rows if not r[0].endswith(("_pkey", "_credential_no_key", "_waybill_no_key"))]
    return {r[0] for r in rows}


def _listed() -> tuple[set[str], set[str]]:
    """(kept, dropped): the index names the page's tables list."""
    kept, dropped = set(), set()
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `") and not line.startswith("| unique `") and not line.startswith("| dropped"):
            continue
        first = line.split("|")[1]
        names = set()
        for name in re.findall(r"`([a-z0-9_{},]+)`", first):
            m = re.match(r"(.*)\{(.*)\}(.*)", name)
            names |= {m.group(1) + part + m.group(3) for part in m.group(2).split(",")} if m else {name}
        (dropped if "dropped" in first else kept).update(names)
    return kept, dropped


def test_every_index_of_credential_and_event_is_listed_with_its_reason(engine):
    kept, dropped = _listed()
    have = _indexes(engine)
    assert have - kept == set(), "indexes not in docs/SCHEMA.md"
    assert have & dropped == set(), "indexes docs/SCHEMA.md says were dropped"
    if engine.dialect.name == "sqlite":
        expected_here = {n for n in kept if not n.endswith(("_trgm", "_c")) and n.startswith(("ix_", "uq_"))}
    else:
        expected_here = {n for n in kept if n.startswith("ix_")}
    assert expected_here - have - {"uq_event_nonce"} == set(), "listed in docs/SCHEMA.md, not in the database"
