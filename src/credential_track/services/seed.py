"""Loading the seed data of `seed/` into a database."""
from __future__ import annotations

import csv
import os
from pathlib import Path

from sqlmodel import Session, select

from ..domain.regions import all_routes
from ..models import CredentialType, Route, Site, Station, WaybillRange


def seed_dir() -> Path:
    """The seed folder: $CREDTRACK_SEED_DIR, else the package's `seed/`."""
    if os.environ.get("CREDTRACK_SEED_DIR"):
        return Path(os.environ["CREDTRACK_SEED_DIR"])
    return Path(__file__).resolve().parents[1] / "seed"


def _rows(name: str, folder: Path) -> list[dict]:
    with open(folder / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load_seed(session: Session, folder: Path | None = None) -> dict[str, int]:
    """Insert the seed rows that are not there yet; return how many of each."""
    folder = folder or seed_dir()
    added = {"sites": 0, "stations": 0, "credential_types": 0, "routes": 0, "waybill_ranges": 0}

    sites = {s.code: s for s in session.exec(select(Site))}
    for row in _rows("sites.csv", folder):
        if row["code"] not in sites:
            site = Site(**row)
            session.add(site)
            sites[row["code"]] = site
            added["sites"] += 1
    session.flush()

    stations = {s.code: s for s in session.exec(select(Station))}
    for row in _rows("stations.csv", folder):
        if row["code"] not in stations:
            st = Station(
                code=row["code"], kind=row["kind"], site_id=sites[row["site"]].id,
                name_zh=row["name_zh"], name_en=row["name_en"], actions=row["actions"].strip(),
                label_format=row.get("label_format") or "pdf",
            )
            session.add(st)
            stations[row["code"]] = st
            added["stations"] += 1
    session.flush()

    types = {t.code for t in session.exec(select(CredentialType))}
    for row in _rows("credential_types.csv", folder):
        if row["code"] not in types:
            session.add(CredentialType(**row))
            added["credential_types"] += 1

    routes = {r.code for r in session.exec(select(Route))}
    for code, zh, en in all_routes():
        if code not in routes:
            session.add(Route(code=code, name_zh=zh, name_en=en))
            added["routes"] += 1

    have_ranges = {r.station_id for r in session.exec(select(WaybillRange))}
    for row in _rows("waybill_ranges.csv", folder):
        st = stations[row["station"]]
        if st.id not in have_ranges:
            first = int(row["first"])
            session.add(WaybillRange(
                prefix=row["prefix"], country=row["country"], first=first,
                last=int(row["last"]), next=first, station_id=st.id,
            ))
            added["waybill_ranges"] += 1
    session.flush()
    return added
