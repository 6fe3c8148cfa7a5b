"""The stored domain: plans, grants, allocations, spend, audit, imports, returns, evidence.

Money columns are integer pence (BigInteger) exposed to Python as two-place Decimals through
the ``Pence`` type; SQLAlchemy's Numeric is avoided because SQLite routes it through float.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from fundtracker.money import from_pence, to_pence

PLAN_KINDS = ("pcc", "csp", "statutory", "other")
RETURN_FREQUENCIES = ("quarterly", "half-yearly", "annual")
SPEND_STATUSES = ("paid", "accrued", "committed")
ACTUAL_STATUSES = ("paid", "accrued")
ALLOCATION_STATUSES = ("proposed", "approved", "active", "closed")
RULE_FIELDS = ("supplier", "description", "reference", "cost_centre", "account_code")
RULE_OPERATORS = ("equals", "contains", "regex")
RAG_VALUES = ("G", "A", "R")
OUTCOME_UNITS = ("count", "percent")


class Pence(TypeDecorator[Decimal]):
    """A Decimal amount stored as whole pence."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else to_pence(Decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_pence(int(value))


class UtcDateTime(TypeDecorator[datetime]):
    """A moment in UTC; SQLite keeps no time zone, so it is stored naive and read back aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("times are stored in UTC and must carry a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        Decimal: Pence,
        datetime: UtcDateTime,
    }

    # Fields left out of the audit trail (bookkeeping, not data).
    audit_ignore: ClassVar[frozenset[str]] = frozenset({"version"})

    def audit_grant_id(self) -> int | None:
        """The grant an audit event about this record belongs to, for filtering."""
        return None

    def audit_label(self) -> str:
        """How a person names this record in the audit log."""
        return str(getattr(self, "id", ""))


class Versioned:
    """Optimistic concurrency: an update of a stale copy fails instead of overwriting."""

    version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}


class Plan(Versioned, Base):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[str] = mapped_column(String(20))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    # The version of this plan that this one replaced from its ``effective_from`` (None for a
    # first version). Projects keep their weights against the version they were set on.
    # A plain id, not a foreign key: SQLite could add a foreign key only by copying the plans
    # table, which its cascades would empty of priorities.
    previous_id: Mapped[int | None] = mapped_column(Integer)

    priorities: Mapped[list[Priority]] = relationship(
        back_populates="plan", order_by="Priority.position", cascade="all, delete-orphan"
    )

    def audit_label(self) -> str:
        return self.key


class Priority(Base):
    __tablename__ = "priorities"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_code: Mapped[str | None] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # A retired priority keeps its code and its weights (past figures stay as they were) but
    # takes no new ones.
    retired: Mapped[bool] = mapped_column(Boolean, default=False)

    plan: Mapped[Plan] = relationship(back_populates="priorities")

    def audit_label(self) -> str:
        return f"{self.plan.key}/{self.code}" if self.plan else self.code


class Grant(Versioned, Base):
    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    funder: Mapped[str] = mapped_column(String(300), default="")
    recipient: Mapped[str] = mapped_column(String(300), default="")
    award: Mapped[Decimal]
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    return_frequency: Mapped[str] = mapped_column(String(20), default="quarterly")
    aligned_plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    local_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    conditions: Mapped[str] = mapped_column(Text, default="")
    # When the year was closed (docs/FIGURES.md, Year end): a closed grant is read-only
    # until it is reopened with a reason.
    closed_at: Mapped[datetime | None]

    aligned_plan: Mapped[Plan] = relationship(foreign_keys=[aligned_plan_id])
    local_plan: Mapped[Plan | None] = relationship(foreign_keys=[local_plan_id])
    payments: Mapped[list[Payment]] = relationship(
        back_populates="grant", order_by="Payment.position", cascade="all, delete-orphan"
    )
    allocations: Mapped[list[Allocation]] = relationship(
        back_populates="grant", order_by="Allocation.position", cascade="all, delete-orphan"
    )

    def audit_grant_id(self) -> int | None:
        return self.id

    def audit_label(self) -> str:
        return self.reference


class Payment(Base):
    """A tranche of the grant: received, or expected on its date."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), index=True)
    # The day the money arrived, when the officer recorded it (``date`` is when it was due).
    # Declared before ``date``, whose attribute would otherwise shadow the type here.
    received_on: Mapped[date | None] = mapped_column(Date)
    date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal]
    received: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    grant: Mapped[Grant] = relationship(back_populates="payments")

    def audit_grant_id(self) -> int | None:
        return self.grant_id


class Allocation(Versioned, Base):
    """A project the grant funds."""

    __tablename__ = "allocations"
    __table_args__ = (UniqueConstraint("grant_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    lead: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    budget: Mapped[Decimal]
    cost_centre: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), default="active")
    position: Mapped[int] = mapped_column(Integer, default=0)

    grant: Mapped[Grant] = relationship(back_populates="allocations")
    profile: Mapped[list[ProfileAmount]] = relationship(
        back_populates="allocation",
        order_by="ProfileAmount.quarter_index",
        cascade="all, delete-orphan",
    )
    weights: Mapped[list[Weight]] = relationship(
        back_populates="allocation", cascade="all, delete-orphan"
    )
    outcomes: Mapped[list[OutcomeMeasure]] = relationship(
        back_populates="allocation",
        order_by="OutcomeMeasure.position",
        cascade="all, delete-orphan",
    )

    def audit_grant_id(self) -> int | None:
        return self.grant_id

    def audit_label(self) -> str:
        return self.code


class ProfileAmount(Base):
    """Planned spend of an allocation in one quarter of the grant (0 = the grant's first)."""

    __tablename__ = "profile_amounts"
    __table_args__ = (UniqueConstraint("allocation_id", "quarter_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    allocation_id: Mapped[int] = mapped_column(ForeignKey("allocations.id", ondelete="CASCADE"))
    quarter_index: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal]

    allocation: Mapped[Allocation] = relationship(back_populates="profile")

    def audit_grant_id(self) -> int | None:
        return self.allocation.grant_id if self.allocation else None


class Weight(Base):
    """Share of an allocation serving one priority, in hundredths of a percent (6000 = 60%)."""

    __tablename__ = "weights"
    __table_args__ = (UniqueConstraint("allocation_id", "priority_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    allocation_id: Mapped[int] = mapped_column(ForeignKey("allocations.id", ondelete="CASCADE"))
    priority_id: Mapped[int] = mapped_column(ForeignKey("priorities.id", ondelete="CASCADE"))
    basis_points: Mapped[int] = mapped_column(Integer)

    allocation: Mapped[Allocation] = relationship(back_populates="weights")
    priority: Mapped[Priority] = relationship()

    def audit_grant_id(self) -> int | None:
        return self.allocation.grant_id if self.allocation else None

    def audit_label(self) -> str:
        if self.allocation and self.priority:
            return f"{self.allocation.code}:{self.priority.audit_label()}"
        return str(self.id)


class OutcomeMeasure(Versioned, Base):
    """A result a project is funded for (issue 15), with its target over the grant.

    Targets are exact integers in the measure's unit: a ``count`` in whole units, a
    ``percent`` in tenths of a percent (825 = 82.5%). ``quarter_targets`` holds one target a
    quarter of the grant ("2,2,2,4"), or "" for the even spread (fundtracker/outcomes.py).
    """

    __tablename__ = "outcome_measures"
    __table_args__ = (UniqueConstraint("allocation_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    allocation_id: Mapped[int] = mapped_column(
        ForeignKey("allocations.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(10))
    # The code of the priority of the grant's aligned plan this measure serves, if any.
    priority: Mapped[str | None] = mapped_column(String(40))
    target: Mapped[int] = mapped_column(Integer)
    quarter_targets: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    allocation: Mapped[Allocation] = relationship(back_populates="outcomes")
    # Deleted with the measure by the ORM, so each actual has its delete in the audit log.
    actuals: Mapped[list[OutcomeActual]] = relationship(
        back_populates="measure", order_by="OutcomeActual.quarter", cascade="all, delete-orphan"
    )

    def audit_grant_id(self) -> int | None:
        return self.allocation.grant_id if self.allocation else None

    def audit_label(self) -> str:
        return f"{self.allocation.code}/{self.code}" if self.allocation else self.code


class OutcomeActual(Versioned, Base):
    """What a measure achieved in one quarter (``quarter`` like "2025/26-Q2"): a count, or for
    a percent measure ``actual`` of ``out_of`` (41 of 50)."""

    __tablename__ = "outcome_actuals"
    __table_args__ = (UniqueConstraint("measure_id", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), index=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("outcome_measures.id", ondelete="CASCADE"))
    quarter: Mapped[str] = mapped_column(String(20))
    actual: Mapped[int] = mapped_column(Integer)
    out_of: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")

    measure: Mapped[OutcomeMeasure] = relationship(back_populates="actuals")

    def audit_grant_id(self) -> int | None:
        return self.grant_id

    def audit_label(self) -> str:
        return f"{self.measure.audit_label()} {self.quarter}" if self.measure else self.quarter


def _same_as_date(context: Any) -> Any:
    """A new line is counted on its own date unless told otherwise (a late line)."""
    return context.get_current_parameters()["date"]


SEARCH_TEXT_FIELDS = (
    "supplier", "description", "reference", "cost_centre", "account_code", "notes"
)  # fmt: skip


def search_text_of(values: Any) -> str:
    """Every text field of a line, case-folded by Python (a mapping or a SpendLine): SQLite's
    lower() folds ASCII only, so "CAFÉ" stayed "cafÉ" and no spelling found it."""
    if isinstance(values, dict):
        parts = [values.get(name) for name in SEARCH_TEXT_FIELDS]
    else:
        parts = [getattr(values, name, None) for name in SEARCH_TEXT_FIELDS]
    return " ".join(str(part or "") for part in parts).casefold()


def _search_text_default(context: Any) -> str:
    """For Core inserts that leave search_text out (an undone import batch put back)."""
    return search_text_of(context.get_current_parameters())


class SpendLine(Versioned, Base):
    __tablename__ = "spend_lines"
    __table_args__ = (
        # Covering indexes: figures group by allocation and status within a date range; the
        # ledger table pages by date (or net); the importer and DUPLICATE_SUSPECT read the
        # natural key. No index carries search_text: PostgreSQL's btree rows stop at 2,704
        # bytes, less than a line's text fields may hold (revision 0008).
        Index("ix_spend_grant_date", "grant_id", "date", "id", "net", "vat"),
        Index("ix_spend_grant_net", "grant_id", "net", "id"),
        Index(
            "ix_spend_figures",
            "grant_id",
            "allocation_id",
            "status",
            "counted_on",
            "released_on",
            "date",
            "net",
            "vat",
            "vat_recoverable",
        ),
        # The DUPLICATE_SUSPECT check groups by reference, supplier, net and VAT: covering,
        # in that order, it streams the index instead of sorting every line.
        Index("ix_spend_duplicates", "grant_id", "reference", "supplier", "net", "vat", "date"),
        # Late lines only (counted on a later day than their date, a few a year), for the
        # LATE_LINES check (revision 0010).
        Index(
            "ix_spend_late",
            "grant_id",
            "counted_on",
            sqlite_where=text("counted_on > date"),
            postgresql_where=text("counted_on > date"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"))
    allocation_id: Mapped[int | None] = mapped_column(
        ForeignKey("allocations.id", ondelete="RESTRICT"), index=True
    )
    # The day the line's figures count from: its date, or for a late line (dated inside a
    # submitted period) the first day after the latest submitted period. Every figure uses it.
    counted_on: Mapped[date] = mapped_column(Date, default=_same_as_date)
    # A commitment released (cancelled, or replaced by its invoice) stops counting as
    # committed in periods ending on or after this day.
    released_on: Mapped[date | None] = mapped_column(Date)
    date: Mapped[date] = mapped_column(Date)
    # The actual line that invoiced this commitment, when it was invoiced (a plain id, not a
    # foreign key: deleting that line later leaves the commitment released, as it was).
    invoiced_by_id: Mapped[int | None] = mapped_column(Integer)
    supplier: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str] = mapped_column(String(100), default="")
    cost_centre: Mapped[str] = mapped_column(String(60), default="")
    account_code: Mapped[str] = mapped_column(String(60), default="")
    net: Mapped[Decimal]
    vat: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    vat_recoverable: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20), default="paid")
    notes: Mapped[str] = mapped_column(Text, default="")
    # Every text field, case-folded (search_text_of): the ledger's find box searches this one
    # column. Kept by the ORM hooks below and by the importer's bulk rows; revision 0006
    # replaced the database's own lower(), ASCII-only.
    search_text: Mapped[str] = mapped_column(Text, default=_search_text_default)

    audit_ignore: ClassVar[frozenset[str]] = frozenset({"version", "search_text"})
    source: Mapped[str] = mapped_column(String(300), default="manual")
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batches.id", ondelete="RESTRICT"), index=True
    )
    source_row: Mapped[int | None] = mapped_column(Integer)

    allocation: Mapped[Allocation | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="spend_line", cascade="all, delete-orphan"
    )

    @property
    def claimable(self) -> Decimal:
        return self.net if self.vat_recoverable else self.net + self.vat

    def audit_grant_id(self) -> int | None:
        return self.grant_id

    def audit_label(self) -> str:
        return f"line {self.id}"


class AuditEvent(Base):
    """Who changed what, from what to what, when and why. Written only, never edited."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_grant_at", "grant_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    os_user: Mapped[str] = mapped_column(String(200))
    db_user: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(20))  # create | update | delete | other verbs
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(300), default="")
    grant_id: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[str] = mapped_column(Text, default="{}")  # JSON {field: [old, new]}
    reason: Mapped[str] = mapped_column(Text, default="")


class ImportBatch(Base):
    """One ledger file imported into one grant."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    mapping: Mapped[str] = mapped_column(Text, default="{}")  # JSON {field: column}
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    unassigned: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime]
    imported_by: Mapped[str] = mapped_column(String(200), default="")
    undone_at: Mapped[datetime | None]

    def audit_grant_id(self) -> int | None:
        return self.grant_id

    def audit_label(self) -> str:
        return self.file_name


class MappingProfile(Base):
    """A saved column mapping for a ledger layout, reused by name."""

    __tablename__ = "mapping_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    mapping: Mapped[str] = mapped_column(Text, default="{}")  # JSON {field: column}
    date_format: Mapped[str | None] = mapped_column(String(40))
    sheet: Mapped[str | None] = mapped_column(String(100))

    def audit_label(self) -> str:
        return self.name


class AssignmentRule(Base):
    """Assign an imported line to an allocation when one of its fields matches."""

    __tablename__ = "assignment_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(30))
    operator: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(500))
    allocation_id: Mapped[int] = mapped_column(ForeignKey("allocations.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    allocation: Mapped[Allocation] = relationship()

    def audit_grant_id(self) -> int | None:
        return self.grant_id


class Narrative(Versioned, Base):
    """What the officer says about one project in one return period."""

    __tablename__ = "narratives"
    __table_args__ = (UniqueConstraint("allocation_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), index=True)
    allocation_id: Mapped[int] = mapped_column(ForeignKey("allocations.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(20))
    rag: Mapped[str | None] = mapped_column(String(1))
    outputs: Mapped[str] = mapped_column(Text, default="")
    variance_explanation: Mapped[str] = mapped_column(Text, default="")
    forecast: Mapped[Decimal | None]

    allocation: Mapped[Allocation] = relationship()

    def audit_grant_id(self) -> int | None:
        return self.grant_id

    def audit_label(self) -> str:
        code = self.allocation.code if self.allocation else self.allocation_id
        return f"{code} {self.period}"


class Submission(Base):
    """A submitted return: an immutable snapshot of every figure, with its checksum."""

    __tablename__ = "submissions"
    # The snapshot can be megabytes; the audit event of a submission records its checksum.
    audit_ignore: ClassVar[frozenset[str]] = frozenset({"snapshot"})
    __table_args__ = (UniqueConstraint("grant_id", "period", "version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(20))
    period_end: Mapped[date] = mapped_column(Date)
    version_number: Mapped[int] = mapped_column(Integer, default=1)
    submitted_at: Mapped[datetime]
    submitted_by: Mapped[str] = mapped_column(String(200))
    snapshot: Mapped[str] = mapped_column(Text)  # canonical JSON
    checksum: Mapped[str] = mapped_column(String(64))
    reopened_at: Mapped[datetime | None]
    reopened_by: Mapped[str | None] = mapped_column(String(200))
    reopen_reason: Mapped[str | None] = mapped_column(Text)

    def audit_grant_id(self) -> int | None:
        return self.grant_id

    def audit_label(self) -> str:
        return f"{self.period} v{self.version_number}"


class EvidenceFile(Base):
    """The bytes of an evidence file on a shared (PostgreSQL) database, under its SHA-256:
    kept with the database so every colleague reaches them (a SQLite database keeps them in
    the evidence folder beside it). Written once, never changed; the attachment that links
    a line to it is the audited record."""

    __tablename__ = "evidence_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Attachment(Base):
    """Evidence for a spend line, stored under its SHA-256: in the evidence folder beside a
    SQLite database, in ``evidence_files`` on a shared one."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    spend_line_id: Mapped[int] = mapped_column(
        ForeignKey("spend_lines.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(500))
    size: Mapped[int] = mapped_column(BigInteger)
    added_at: Mapped[datetime]

    spend_line: Mapped[SpendLine] = relationship(back_populates="attachments")

    def audit_grant_id(self) -> int | None:
        return self.spend_line.grant_id if self.spend_line else None

    def audit_label(self) -> str:
        return self.original_name


class Virement(Versioned, Base):
    """Budget moved from one project to another with the funder's written approval. Budgets
    are stored as originally allocated; figures for periods ending on or after ``effective``
    apply the move (docs/FIGURES.md)."""

    __tablename__ = "virements"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), index=True)
    from_allocation_id: Mapped[int] = mapped_column(
        ForeignKey("allocations.id", ondelete="CASCADE")
    )
    to_allocation_id: Mapped[int] = mapped_column(ForeignKey("allocations.id", ondelete="CASCADE"))
    amount: Mapped[Decimal]
    approval: Mapped[str] = mapped_column(String(200))
    approved_on: Mapped[date] = mapped_column(Date)
    effective: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")

    from_allocation: Mapped[Allocation] = relationship(foreign_keys=[from_allocation_id])
    to_allocation: Mapped[Allocation] = relationship(foreign_keys=[to_allocation_id])

    def audit_grant_id(self) -> int | None:
        return self.grant_id

    def audit_label(self) -> str:
        return f"virement {self.approval}"


class ImportExclusion(Base):
    """A ledger line the officer excluded from a grant as *not this grant* (another fund's
    line, income), remembered by the importer's fingerprint so a re-import excludes it again."""

    __tablename__ = "import_exclusions"
    __table_args__ = (UniqueConstraint("grant_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(32))  # hex of the importer's natural key
    date: Mapped[date] = mapped_column(Date)
    supplier: Mapped[str] = mapped_column(String(300), default="")
    reference: Mapped[str] = mapped_column(String(100), default="")
    net: Mapped[Decimal]
    vat: Mapped[Decimal]
    reason: Mapped[str] = mapped_column(Text, default="")  # "row 12", "cost_centre=SS01"
    excluded_at: Mapped[datetime]

    def audit_grant_id(self) -> int | None:
        return self.grant_id

    def audit_label(self) -> str:
        return f"excluded {self.date:%d/%m/%Y} {self.supplier} {self.net}"


class Setting(Base):
    """A named setting kept with the data, such as a check threshold."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)

    def audit_label(self) -> str:
        return self.key


class FundedPartnership(Versioned, Base):
    """A partnership the OPCC funds (issue 16): whose returns it expects, and when."""

    __tablename__ = "funded_partnerships"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(300))
    grant_reference: Mapped[str] = mapped_column(String(100), unique=True)
    award: Mapped[Decimal]
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    return_frequency: Mapped[str] = mapped_column(String(20))

    def audit_label(self) -> str:
        return f"funded {self.grant_reference}"


class ReceivedReturn(Base):
    """A partnership's return as the OPCC received it: the workbook's snapshot, verified
    against its checksum. A newer version of the same return supersedes it; both are kept."""

    __tablename__ = "received_returns"
    # The snapshot can be megabytes; the audit event records the checksum and file SHA-256.
    audit_ignore: ClassVar[frozenset[str]] = frozenset({"snapshot"})
    __table_args__ = (UniqueConstraint("grant_reference", "period", "version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(300))
    grant_reference: Mapped[str] = mapped_column(String(100), index=True)
    period: Mapped[str] = mapped_column(String(20))
    version_number: Mapped[int] = mapped_column(Integer)
    prepared_by: Mapped[str] = mapped_column(String(200), default="")
    received_at: Mapped[datetime]
    file_name: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    checksum: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[str] = mapped_column(Text)  # canonical JSON, as the checksum covers it
    status: Mapped[str] = mapped_column(String(20), default="current")  # or "superseded"
    # The newer version that replaced this one; a plain id, like plans.previous_id.
    superseded_by_id: Mapped[int | None] = mapped_column(Integer)

    def audit_label(self) -> str:
        return f"received {self.grant_reference} {self.period} v{self.version_number}"


@event.listens_for(SpendLine, "before_insert")
@event.listens_for(SpendLine, "before_update")
def _keep_search_text(_mapper: Any, _connection: Any, line: SpendLine) -> None:
    """Every ORM write of a line refreshes its search text from its fields."""
    line.search_text = search_text_of(line)
