"""Waybill numbers for capture: allocated from the station's S10 ranges."""
from __future__ import annotations

from sqlalchemy.engine import Connection

from ...domain.codes import next_free_s10
from .model import StationRow
from .statements import SQL, waybill_owner


def allocate(conn: Connection, station: StationRow) -> str | None:
    """The next unused S10 number from the station's range(s), its range
    moved on (inside the caller's transaction: a rollback gives it back).
    None when every range of the station is used up."""
    for r_id, prefix, country, next_no, last in conn.execute(SQL["ranges"], {"station_id": station.id}).all():
        number, after = next_free_s10(prefix, country, next_no, last,
                                      lambda n: waybill_owner(conn, n) is not None)
        conn.execute(SQL["range_next"], {"r_id": r_id, "next": after})
        if number is not None:
            return number
    return None
