"""Settings kept with the data (the ``settings`` table), such as the checks' thresholds.

Each setting is declared once in ``SETTINGS`` with its default and kind; to add one, add a
line there. Values are stored as text and read back typed; a missing row means the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundtracker.errors import NotFoundError, ValidationError
from fundtracker.models import Setting
from fundtracker.money import money_str, parse_money
from fundtracker.storage import Database


@dataclass(frozen=True)
class SettingSpec:
    key: str
    kind: str  # "percent" (0 to 100, a Decimal), "money" (a two-place Decimal) or "days"
    default: Decimal
    description: str


UNDERSPEND_RISK_PERCENT = "checks.underspend_risk_percent"
BEHIND_PROFILE_PERCENT = "checks.behind_profile_percent"
EVIDENCE_THRESHOLD = "checks.evidence_threshold"
COMMITMENT_STALE_DAYS = "checks.commitment_stale_days"
OUTCOME_BEHIND_PERCENT = "checks.outcome_behind_percent"
RETURN_DUE_DAYS = "opcc.return_due_days"

SETTINGS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec(
            UNDERSPEND_RISK_PERCENT,
            "percent",
            Decimal("2"),
            "UNDERSPEND_RISK fires when the projected underspend is more than this % of the award",
        ),
        SettingSpec(
            BEHIND_PROFILE_PERCENT,
            "percent",
            Decimal("75"),
            "BEHIND_PROFILE fires when a project's spend to date is under this % of its "
            "profile to date",
        ),
        SettingSpec(
            EVIDENCE_THRESHOLD,
            "money",
            Decimal("500.00"),
            "NO_EVIDENCE names actual lines of at least this claimable amount with no attachment",
        ),
        SettingSpec(
            COMMITMENT_STALE_DAYS,
            "days",
            Decimal("90"),
            "COMMITMENT_STALE names commitments still open more than this many days after "
            "they were raised",
        ),
        SettingSpec(
            OUTCOME_BEHIND_PERCENT,
            "percent",
            Decimal("75"),
            "OUTCOME_BEHIND fires when an outcome's actual to date is under this % of its "
            "target to date",
        ),
        SettingSpec(
            RETURN_DUE_DAYS,
            "days",
            Decimal("30"),
            "The OPCC expects each funded partnership's return this many days after the "
            "period ends (RETURN_MISSING, RETURN_LATE)",
        ),
    )
}


def _spec(key: str) -> SettingSpec:
    spec = SETTINGS.get(key)
    if spec is None:
        known = ", ".join(sorted(SETTINGS))
        raise NotFoundError(f"no setting '{key}' (settings: {known})")
    return spec


def parse_value(key: str, text: str) -> Decimal:
    """The typed value of ``text`` for setting ``key``; refused with a clear message."""
    spec = _spec(key)
    if spec.kind == "money":
        return parse_money(text)
    if spec.kind == "days":
        return _parse_days(key, text)
    try:
        value = Decimal(text.strip().rstrip("%"))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or not 0 <= value <= 100:
        raise ValidationError(f"{key}: '{text}' is not a percentage from 0 to 100")
    return value


def _parse_days(key: str, text: str) -> Decimal:
    stripped = text.strip()
    if not stripped.isdigit() or not 0 <= int(stripped) <= 3660:
        raise ValidationError(f"{key}: '{text}' is not a whole number of days from 0 to 3660")
    return Decimal(int(stripped))


def _text(key: str, value: Decimal) -> str:
    return money_str(value) if _spec(key).kind == "money" else f"{value.normalize():f}"


def read_setting(session: Session, key: str) -> Decimal:
    """The setting's value, or its default when none is stored."""
    spec = _spec(key)
    stored = session.scalar(select(Setting.value).where(Setting.key == key))
    return spec.default if stored is None else parse_value(key, stored)


def get_setting(db: Database, key: str) -> Decimal:
    with db.read() as session:
        return read_setting(session, key)


def all_settings(db: Database) -> dict[str, Decimal]:
    with db.read() as session:
        return {key: read_setting(session, key) for key in SETTINGS}


def set_setting(db: Database, key: str, value: Decimal | str, reason: str = "") -> Decimal:
    """Store a setting (audited); text is parsed as the setting's kind."""
    typed = parse_value(key, value) if isinstance(value, str) else parse_value(key, str(value))
    with db.unit_of_work(reason) as session:
        row = session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=_text(key, typed)))
        else:
            row.value = _text(key, typed)
    return typed


def reset_setting(db: Database, key: str, reason: str = "") -> Decimal:
    """Forget a stored value so the default applies again."""
    spec = _spec(key)
    with db.unit_of_work(reason) as session:
        row = session.get(Setting, key)
        if row is not None:
            session.delete(row)
    return spec.default


@dataclass(frozen=True)
class Thresholds:
    underspend_risk_percent: Decimal
    behind_profile_percent: Decimal


def read_thresholds(session: Session) -> Thresholds:
    return Thresholds(
        underspend_risk_percent=read_setting(session, UNDERSPEND_RISK_PERCENT),
        behind_profile_percent=read_setting(session, BEHIND_PROFILE_PERCENT),
    )


def get_thresholds(db: Database) -> Thresholds:
    with db.read() as session:
        return read_thresholds(session)
