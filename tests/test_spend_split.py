"""Splitting a line across projects, assigning many lines at once, and the ledger view's pages."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from fundtracker.errors import LockedError, ValidationError
from fundtracker.models import AuditEvent, SpendLine, Submission
from fundtracker.periods import Period
from fundtracker.services.ledger_view import (
    LedgerFilter,
    count_lines,
    page_lines,
    summarise_lines,
)
from fundtracker.services.spend import add_spend, assign_spend, list_spend, split_spend
from fundtracker.storage import Database, utcnow

GRANT = "CRG-2025-26"


def _line(db: Database, **values: object) -> SpendLine:
    base: dict[str, object] = {
        "date": "2025-05-10",
        "net": "100.00",
        "vat": "20.00",
        "supplier": "Acme",
        "reference": "INV1",
        "allocation": "A01",
    }
    return add_spend(db, GRANT, {**base, **values})


def _lock_q1(db: Database) -> None:
    with db.unit_of_work("test lock") as session:
        grant_id = session.scalar(select(SpendLine.grant_id).limit(1))
        assert grant_id is not None
        session.add(
            Submission(
                grant_id=grant_id,
                period="2025/26-Q1",
                period_end=date(2025, 6, 30),
                version_number=1,
                submitted_at=utcnow(),
                submitted_by="test",
                snapshot="{}",
                checksum="0" * 64,
            )
        )


def test_split_keeps_the_whole_to_the_penny(demo_db: Database) -> None:
    line = _line(demo_db, net="100.00", vat="20.01")
    parts = split_spend(
        demo_db, line.id, [("A01", Decimal("33.33")), ("A02", Decimal("66.67"))], reason="r"
    )
    assert parts[0].id == line.id
    assert [p.net for p in parts] == [Decimal("33.33"), Decimal("66.67")]
    assert sum(p.vat for p in parts) == Decimal("20.01")
    assert [p.vat for p in parts] == [Decimal("6.67"), Decimal("13.34")]
    assert [p.allocation.code for p in parts if p.allocation] == ["A01", "A02"]
    stored = {p.id: p for p in list_spend(demo_db, GRANT) if p.reference == "INV1"}
    assert len(stored) == 2
    assert all(p.supplier == "Acme" and p.date == date(2025, 5, 10) for p in stored.values())
    with demo_db.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.reason == "r")).all()
    assert {e.action for e in events} == {"create", "update"}


def test_split_of_a_credit_note_and_into_unassigned(demo_db: Database) -> None:
    line = _line(demo_db, net="-50.00", vat="-10.00")
    parts = split_spend(demo_db, line.id, [("A01", Decimal("-30")), (None, Decimal("-20"))])
    assert [(p.net, p.vat, p.allocation_id is None) for p in parts] == [
        (Decimal("-30.00"), Decimal("-6.00"), False),
        (Decimal("-20.00"), Decimal("-4.00"), True),
    ]


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([("A01", Decimal("60")), ("A02", Decimal("30"))], "must add up to the line's net"),
        ([("A01", Decimal("100"))], "at least two parts"),
        ([("A01", Decimal("120")), ("A02", Decimal("-20"))], "must be positive"),
        ([("A01", Decimal("50")), ("NOPE", Decimal("50"))], "not a project"),
        ([("A01", Decimal("50.001")), ("A02", Decimal("49.999"))], "fractions of a penny"),
    ],
)
def test_split_refuses_parts_that_do_not_make_the_whole(
    demo_db: Database, parts: list[tuple[str | None, Decimal]], message: str
) -> None:
    line = _line(demo_db)
    before = len(list_spend(demo_db, GRANT))
    with pytest.raises(ValidationError, match=message):
        split_spend(demo_db, line.id, parts)
    assert len(list_spend(demo_db, GRANT)) == before
    with demo_db.read() as session:
        assert session.get_one(SpendLine, line.id).net == Decimal("100.00")


def test_split_obeys_the_lock(demo_db: Database) -> None:
    line = _line(demo_db)
    _lock_q1(demo_db)
    with pytest.raises(LockedError):
        split_spend(demo_db, line.id, [("A01", Decimal("50")), ("A02", Decimal("50"))])


def test_assign_many_lines_in_one_action(demo_db: Database) -> None:
    ids = [_line(demo_db, reference=f"X{n}", allocation="").id for n in range(3)]
    lines = assign_spend(demo_db, ids, "A03", reason="tidy")
    assert {line.allocation.code for line in lines if line.allocation} == {"A03"}
    with demo_db.read() as session:
        codes = {session.get_one(SpendLine, i).allocation_id for i in ids}
        events = session.scalars(select(AuditEvent).where(AuditEvent.reason == "tidy")).all()
    assert len(codes) == 1 and None not in codes
    assert len(events) == 3
    assert json.loads(events[0].changes)["allocation"][1] == "A03"
    assign_spend(demo_db, ids, None)
    with demo_db.read() as session:
        assert all(session.get_one(SpendLine, i).allocation_id is None for i in ids)


def test_assign_is_all_or_nothing(demo_db: Database) -> None:
    old = _line(demo_db, date="2025-05-01", reference="OLD")
    new = _line(demo_db, date="2025-08-01", reference="NEW")
    _lock_q1(demo_db)
    with pytest.raises(LockedError):
        assign_spend(demo_db, [new.id, old.id], "A02")
    with demo_db.read() as session:
        assert session.get_one(SpendLine, new.id).allocation_id == new.allocation_id
    with pytest.raises(ValidationError, match="not a project"):
        assign_spend(demo_db, [new.id], "ZZZ")


def test_ledger_pages_cover_every_line_once(demo_db: Database) -> None:
    total = count_lines(demo_db, GRANT)
    assert total == len(list_spend(demo_db, GRANT))
    for sort, descending in [("date", False), ("net", True), ("allocation", False)]:
        seen: list[int] = []
        after = None
        while True:
            page = page_lines(
                demo_db, GRANT, sort=sort, descending=descending, after=after, limit=7
            )
            if not page:
                break
            seen.extend(row.id for row in page)
            after = page[-1]
        assert len(seen) == total == len(set(seen))
    by_net = page_lines(demo_db, GRANT, sort="net", limit=500)
    assert [r.net for r in by_net] == sorted(r.net for r in by_net)


def test_ledger_filters_run_in_sql(demo_db: Database) -> None:
    rows = page_lines(demo_db, GRANT, LedgerFilter(unassigned_only=True), limit=500)
    assert rows and all(r.allocation is None for r in rows)
    q2 = Period.parse("2025/26-Q2")
    rows = page_lines(demo_db, GRANT, LedgerFilter(period=q2, allocation="A02"), limit=500)
    assert rows and all(q2.contains(r.date) and r.allocation == "A02" for r in rows)
    rows = page_lines(demo_db, GRANT, LedgerFilter(text="credit NOTE"), limit=500)
    assert {r.reference for r in rows} == {"CN2291", "CN3340"}
    committed = LedgerFilter(status="committed")
    summary = summarise_lines(demo_db, GRANT, committed)
    lines = [line for line in list_spend(demo_db, GRANT) if line.status == "committed"]
    assert summary.lines == len(lines)
    assert summary.net == sum(line.net for line in lines)
    assert count_lines(demo_db, GRANT, LedgerFilter(text="100%_")) == 0
    with pytest.raises(ValidationError):
        page_lines(demo_db, GRANT, sort="net; drop table")


def test_restoring_a_deleted_line_brings_back_the_same_line_and_its_evidence(
    demo_db: Database, tmp_path: Path
) -> None:
    from fundtracker.returns.evidence import attach, list_attachments
    from fundtracker.services.spend import delete_spend, get_spend, restore_spend

    line = _line(demo_db, notes="checked", vat_recoverable="no", status="accrued")
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(b"%PDF- the invoice")
    attach(demo_db, line.id, invoice)
    deleted = delete_spend(demo_db, line.id, reason="mistake")
    assert line.id not in {s.id for s in list_spend(demo_db, GRANT)}

    restored = restore_spend(demo_db, deleted, reason="undo delete")
    again = get_spend(demo_db, line.id)
    assert restored.id == line.id
    assert (again.net, again.vat, again.claimable) == (
        Decimal("100.00"),
        Decimal("20.00"),
        Decimal("120.00"),
    )
    assert (again.notes, again.status, again.allocation.code) == ("checked", "accrued", "A01")
    assert [a.original_name for a in list_attachments(demo_db, [line.id])] == ["invoice.pdf"]
    with demo_db.read() as session:
        reasons = [
            e.reason
            for e in session.scalars(
                select(AuditEvent).where(
                    AuditEvent.entity == "spend line", AuditEvent.entity_id == line.id
                )
            )
        ]
    assert reasons[-2:] == ["mistake", "undo delete"]


def test_a_line_cannot_be_restored_into_a_submitted_period(demo_db: Database) -> None:
    from fundtracker.services.spend import delete_spend, restore_spend

    line = _line(demo_db, date="2025-06-01")
    deleted = delete_spend(demo_db, line.id)
    _lock_q1(demo_db)
    with pytest.raises(LockedError, match="2025/26-Q1"):
        restore_spend(demo_db, deleted)
    assert line.id not in {s.id for s in list_spend(demo_db, GRANT)}


def test_rejoining_a_split_gives_back_the_whole_line(demo_db: Database) -> None:
    from fundtracker.services.spend import get_spend, rejoin_spend

    line = _line(demo_db, net="100.00", vat="20.01", allocation="A03")
    parts = split_spend(
        demo_db, line.id, [("A01", Decimal("33.33")), (None, Decimal("66.67"))], reason="r"
    )
    whole = rejoin_spend(demo_db, line.id, [p.id for p in parts[1:]], "A03", reason="undo")
    assert (whole.id, whole.net, whole.vat) == (line.id, Decimal("100.00"), Decimal("20.01"))
    assert get_spend(demo_db, line.id).allocation.code == "A03"
    assert parts[1].id not in {s.id for s in list_spend(demo_db, GRANT)}


def test_a_split_in_a_submitted_period_is_not_rejoined_halfway(demo_db: Database) -> None:
    from fundtracker.services.spend import get_spend, rejoin_spend

    line = _line(demo_db, date="2025-06-01", net="10.00", vat="0.00")
    parts = split_spend(demo_db, line.id, [("A01", Decimal("4.00")), ("A02", Decimal("6.00"))])
    _lock_q1(demo_db)
    with pytest.raises(LockedError):
        rejoin_spend(demo_db, line.id, [parts[1].id], "A01")
    assert get_spend(demo_db, line.id).net == Decimal("4.00")  # nothing changed
    assert get_spend(demo_db, parts[1].id).net == Decimal("6.00")
