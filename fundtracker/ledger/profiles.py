"""Saved mappings: a ledger layout's columns, date format and sheet, reused by name."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundtracker.errors import NotFoundError, ValidationError
from fundtracker.ledger.mapping import FIELDS
from fundtracker.models import MappingProfile
from fundtracker.storage import Database


@dataclass(frozen=True)
class ProfileSettings:
    """What a profile holds: ``{field: column header}``, and optionally date format and sheet."""

    mapping: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None
    sheet: str | None = None


def load_profile(session: Session, name: str) -> ProfileSettings:
    profile = session.scalar(select(MappingProfile).where(MappingProfile.name == name))
    if profile is None:
        known = ", ".join(
            session.scalars(select(MappingProfile.name).order_by(MappingProfile.name))
        )
        raise NotFoundError(f"no mapping profile named '{name}' (saved: {known or 'none yet'})")
    mapping = json.loads(profile.mapping or "{}")
    return ProfileSettings(
        {k: str(v) for k, v in mapping.items() if k in FIELDS}, profile.date_format, profile.sheet
    )


def save_profile(session: Session, name: str, settings: ProfileSettings) -> MappingProfile:
    """Create or replace the named profile (audited as any other change)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError("a profile name is 1 to 100 characters")
    profile = session.scalar(select(MappingProfile).where(MappingProfile.name == name))
    if profile is None:
        profile = MappingProfile(name=name)
        session.add(profile)
    profile.mapping = json.dumps(settings.mapping, sort_keys=True)
    profile.date_format = settings.date_format
    profile.sheet = settings.sheet
    return profile


def list_profiles(db: Database) -> list[MappingProfile]:
    with db.read() as session:
        return list(session.scalars(select(MappingProfile).order_by(MappingProfile.name)))
