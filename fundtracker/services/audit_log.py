"""Reading the audit trail."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from fundtracker.models import AuditEvent, Grant
from fundtracker.services.grants import get_grant
from fundtracker.storage import Database


def list_events(
    db: Database, grant_reference: str | None = None, limit: int | None = None, text: str = ""
) -> list[AuditEvent]:
    """Events newest first; with a grant, only that grant's."""
    with db.read() as session:
        query = select(AuditEvent).order_by(AuditEvent.id.desc())
        if grant_reference is not None:
            grant: Grant = get_grant(session, grant_reference)
            query = query.where(AuditEvent.grant_id == grant.id)
        if text:
            pattern = f"%{text}%"
            query = query.where(
                AuditEvent.label.ilike(pattern)
                | AuditEvent.entity.ilike(pattern)
                | AuditEvent.changes.ilike(pattern)
                | AuditEvent.reason.ilike(pattern)
                | AuditEvent.os_user.ilike(pattern)
            )
        if limit is not None:
            query = query.limit(limit)
        return list(session.scalars(query))


def event_to_dict(event: AuditEvent) -> dict[str, Any]:
    changes = json.loads(event.changes)
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "user": event.os_user,
        "db_user": event.db_user,
        "action": event.action,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "label": event.label,
        "changes": {k: {"old": v[0], "new": v[1]} for k, v in changes.items()},
        "reason": event.reason,
    }


def describe_changes(event: AuditEvent) -> str:
    """``net: 10.00 → 12.00; status: paid → accrued`` for a table cell. A created or deleted
    record shows the fields that held something (the event keeps every field)."""
    changes = json.loads(event.changes)
    parts = []
    for name, (old, new) in changes.items():
        if event.action in ("create", "delete"):
            value = new if event.action == "create" else old
            if value is not None and value != "":
                parts.append(f"{name}={value}")
        else:
            parts.append(f"{name}: {_show(old)} → {_show(new)}")
    return "; ".join(parts)


def _show(value: Any) -> str:
    return "∅" if value is None or value == "" else str(value)
