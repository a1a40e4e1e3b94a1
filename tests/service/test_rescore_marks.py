"""Rescore marks on SQLite and PostgreSQL: a person whose history changed through one connection
is marked for the other connections they have a record in, and a mark set again after it was
taken survives the clearing of the taken one."""

from __future__ import annotations

from sqlalchemy import Engine

from service.domain import Customer, SourceRef
from service.store.records import RecordStore
from service.store.rescore_marks import RescoreMarks


def person(connection: str, crm_id: str, email: str) -> Customer:
    return Customer(
        id=crm_id,
        email=email,
        source=SourceRef(connection=connection, crm_object="Contact", crm_id=crm_id),
    )


def test_marks_go_to_the_other_connections_and_newer_ones_survive(engine: Engine) -> None:
    records = RecordStore(engine)
    records.upsert("hs", [person("hs", "1", "ann@example.com"), person("hs", "2", "bo@x.com")])
    records.upsert("sf", [person("sf", "a", "ann@example.com")])
    records.upsert("zd", [person("zd", "z", "ann@example.com")])
    ann, bo = records.known_customer("hs", "1"), records.known_customer("hs", "2")
    assert ann is not None
    assert bo is not None
    marks = RescoreMarks(engine)
    marks.mark_elsewhere("hs", [ann, bo])
    assert set(marks.pending("sf")) == {ann}
    assert set(marks.pending("zd")) == {ann}
    assert marks.pending("hs") == {}  # not the connection whose sync scored them
    taken = marks.pending("sf")
    marks.mark_elsewhere("zd", [ann])  # a newer change elsewhere, while sf's sync runs
    marks.clear("sf", taken)
    assert set(marks.pending("sf")) == {ann}
    marks.clear("sf", marks.pending("sf"))
    assert marks.pending("sf") == {}
    marks.mark_elsewhere("hs", [ann])  # marked twice: one mark, the newer time
    marks.mark_elsewhere("hs", [ann])
    assert list(marks.pending("sf")) == [ann]
