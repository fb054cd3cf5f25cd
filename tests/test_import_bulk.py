"""The first load into an empty database: one transaction, the indexes built
after the rows; the same result as the chunked write, all or nothing."""
from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from credential_track.models import Credential, Event, HandoverBatch, ImportRun
from credential_track.services import imports, lookup
from credential_track.services.imports import import_manifest

from .test_import_manifest import EN, count, row, write_csv


def schema(engine) -> list:
    """Every index (and on SQLite every trigger) of credential and event, as
    the database itself writes its definition."""
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            return sorted(c.exec_driver_sql(
                "SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN ('credential', 'event')").all())
        return sorted(c.exec_driver_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename IN ('credential', 'event')").all())


@pytest.fixture
def bulk(monkeypatch):
    monkeypatch.setattr(imports, "BULK_ROWS", 50)
    monkeypatch.setattr(imports, "MAX_CHUNK", 40)  # several chunks in the one transaction
    written = []
    real = imports._write_bulk
    monkeypatch.setattr(imports, "_write_bulk", lambda *a, **k: (written.append(1), real(*a, **k)))
    return written


def test_a_first_load_goes_in_one_transaction_and_leaves_every_index_and_the_search(engine, tmp_path, bulk):
    before = schema(engine)
    names = ["欧阳娜", "司马相如", "张伟"]
    path = write_csv(tmp_path / "m.csv", EN, [row(f"B{i:04d}", name=names[i % 3], org=f"测试单位{i}有限公司")
                                              for i in range(120)])
    result = import_manifest(engine, path, batch="first")
    assert bulk == [1]
    assert result.committed and result.new == 120
    assert schema(engine) == before
    assert count(engine) == 120
    assert count(engine, Event, Event.action == "import") == 120
    with Session(engine) as s:
        batch = s.exec(select(HandoverBatch).where(HandoverBatch.name == "first")).one()
        assert batch.expected == 120
        run = s.exec(select(ImportRun).where(ImportRun.batch_id == batch.id)).one()
        assert (run.state, run.rows) == ("done", 120)
        # every item has its import event, each pointing at its own item
        assert s.scalar(select(func.count(func.distinct(Event.credential_id))).where(Event.action == "import")) == 120
        # the search (SQLite's trigram table, PostgreSQL's indexes) finds what was loaded
        # ("马相如": not a prefix of any name, so only the substring search finds it)
        found = set(lookup.search_ids(s, "马相如")[1])
        assert found and found == set(s.exec(select(Credential.id).where(Credential.holder_name == "司马相如")).all())


def test_a_second_import_is_chunked_as_before(engine, tmp_path, bulk):
    import_manifest(engine, write_csv(tmp_path / "a.csv", EN, [row(f"A{i:04d}") for i in range(60)]), batch="a")
    import_manifest(engine, write_csv(tmp_path / "b.csv", EN, [row(f"C{i:04d}") for i in range(60)]), batch="b")
    assert bulk == [1]  # the database was not empty the second time
    assert count(engine) == 120


def test_a_first_load_interrupted_leaves_nothing_and_every_index(engine, tmp_path, bulk):
    before = schema(engine)
    path = write_csv(tmp_path / "m.csv", EN, [row(f"K{i:04d}") for i in range(200)])

    def interrupt(n, seen=[0]):
        seen[0] += n
        if seen[0] >= 300:  # 200 checked, then within the write
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_manifest(engine, path, progress=interrupt)
    assert count(engine) == 0 and count(engine, Event, Event.action == "import") == 0
    assert count(engine, HandoverBatch) == 0
    assert schema(engine) == before
    assert import_manifest(engine, path).new == 200
    assert schema(engine) == before


def test_the_demo_build_leaves_every_index_and_the_search(engine):
    from credential_track.services.demo import build_demo

    before = schema(engine)
    build_demo(engine, credentials=300)
    assert schema(engine) == before
    with Session(engine) as s:
        some = s.exec(select(Credential).order_by(Credential.id.desc())).first()
        sub = some.organization[1:4]  # not a prefix: only the substring search finds it
        expected = {c.id for c in s.exec(select(Credential)).all() if sub in c.organization}
        found = lookup.search_ids(s, sub)[1]
        assert found and set(found) <= expected and len(found) == min(len(expected), lookup.MAX_RESULTS)
