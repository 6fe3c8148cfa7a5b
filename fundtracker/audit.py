"""The audit trail: every ORM change is recorded with old and new values, in the same
transaction as the change itself, so an audited change and its record stand or fall together.
"""

from __future__ import annotations

import getpass
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, inspect, text
from sqlalchemy.orm import Session, UOWTransaction, object_session

from fundtracker.models import AuditEvent, Base
from fundtracker.money import money_str


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def to_json_value(value: Any) -> Any:
    """The form a value takes in the audit log and in JSON output."""
    if isinstance(value, Decimal):
        return money_str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _entity_name(obj: Base) -> str:
    table = str(obj.__tablename__)
    singular = table[:-3] + "y" if table.endswith("ies") else table.removesuffix("s")
    return singular.replace("_", " ")


# Foreign keys are shown as what a person knows them by: the code, not the row id.
_SHOWN_AS = {
    "allocation_id": ("allocation", "allocations", "code"),
    "priority_id": ("priority", "priorities", "code"),
    "aligned_plan_id": ("aligned_plan", "plans", "key"),
    "local_plan_id": ("local_plan", "plans", "key"),
}


def _readable(session: Session, changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    shown: dict[str, list[Any]] = {}
    for name, values in changes.items():
        if name not in _SHOWN_AS:
            shown[name] = values
            continue
        label, table, column = _SHOWN_AS[name]
        shown[label] = [_lookup(session, table, column, v) for v in values]
    return shown


def _lookup(session: Session, table: str, column: str, row_id: Any) -> Any:
    if row_id is None:
        return None
    found = (
        session.connection()
        .execute(text(f"SELECT {column} FROM {table} WHERE id = :id"), {"id": row_id})
        .scalar()
    )
    return found if found is not None else row_id


def _fields(obj: Base) -> list[str]:
    return [c.key for c in inspect(obj).mapper.column_attrs if c.key not in obj.audit_ignore]


def _snapshot(obj: Base) -> dict[str, list[Any]]:
    return {name: [None, to_json_value(getattr(obj, name))] for name in _fields(obj)}


def _deleted_snapshot(obj: Base) -> dict[str, list[Any]]:
    return {name: [to_json_value(getattr(obj, name)), None] for name in _fields(obj)}


def _changes(obj: Base) -> dict[str, list[Any]]:
    state = inspect(obj)
    changed: dict[str, list[Any]] = {}
    for name in _fields(obj):
        history = state.attrs[name].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old != new:
            changed[name] = [to_json_value(old), to_json_value(new)]
    return changed


def _event_row(session: Session, obj: Base, action: str, changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": datetime.now(UTC),
        "os_user": session.info.get("os_user", os_user()),
        "db_user": session.info.get("db_user", ""),
        "action": action,
        "entity": _entity_name(obj),
        "entity_id": getattr(obj, "id", None),
        "label": obj.audit_label()[:300],
        "grant_id": obj.audit_grant_id(),
        "changes": json.dumps(_readable(session, changes), sort_keys=True),
        "reason": session.info.get("reason", ""),
    }


@event.listens_for(Base, "after_delete", propagate=True)
def _note_deleted(_mapper: Any, _connection: Any, target: Base) -> None:
    """Every row the flush deletes: those asked for by name, and those it deletes itself (an
    orphan left by a re-imported grant file, a cascade), which ``session.deleted`` omits."""
    session = object_session(target)
    if session is not None and not isinstance(target, AuditEvent):
        session.info.setdefault(_DELETED, []).append(target)


_DELETED = "audit_deleted"


@event.listens_for(Session, "after_soft_rollback")
def _forget_deleted(session: Session, _previous: Any) -> None:
    session.info.pop(_DELETED, None)  # a failed flush or savepoint deleted nothing


@event.listens_for(Session, "after_flush")
def _record_changes(session: Session, _flush: UOWTransaction) -> None:
    rows: list[dict[str, Any]] = []
    for obj in session.new:
        if isinstance(obj, Base) and not isinstance(obj, AuditEvent):
            rows.append(_event_row(session, obj, "create", _snapshot(obj)))
    for obj in session.dirty:
        if isinstance(obj, Base) and not isinstance(obj, AuditEvent):
            changes = _changes(obj)
            if changes:
                rows.append(_event_row(session, obj, "update", changes))
    for obj in session.info.pop(_DELETED, []):
        rows.append(_event_row(session, obj, "delete", _deleted_snapshot(obj)))
    if rows:
        session.connection().execute(insert(AuditEvent), rows)


def record(
    session: Session,
    action: str,
    entity: str,
    entity_id: int | None,
    label: str,
    grant_id: int | None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Record an event that is not a single ORM change (a bulk import, an undo, a submission)."""
    session.add(
        AuditEvent(
            at=datetime.now(UTC),
            os_user=session.info.get("os_user", os_user()),
            db_user=session.info.get("db_user", ""),
            action=action,
            entity=entity,
            entity_id=entity_id,
            label=label[:300],
            grant_id=grant_id,
            changes=json.dumps(changes or {}, sort_keys=True),
            reason=session.info.get("reason", ""),
        )
    )
