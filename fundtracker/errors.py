"""Typed errors: everything a user can cause is one of these, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass


class FundtrackerError(Exception):
    """Refused input or an impossible request. The message is shown to the user as is."""


class MoneyError(FundtrackerError, ValueError):
    """Text that is not an exact amount of money."""


class PeriodError(FundtrackerError, ValueError):
    """Text that is not a period such as 2025/26-Q2."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one field, named the way a person finds it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class ValidationError(FundtrackerError):
    """One or more field-level problems; nothing was changed."""

    def __init__(self, errors: list[FieldError] | FieldError | str):
        if isinstance(errors, str):
            errors = [FieldError("", errors)]
        elif isinstance(errors, FieldError):
            errors = [errors]
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class NotFoundError(FundtrackerError):
    """A grant, line or other record that does not exist."""


class ConflictError(FundtrackerError):
    """Someone else changed the record since it was read; nothing was overwritten."""


class LockedError(FundtrackerError):
    """The change touches a period whose return has been submitted."""


class DatabaseError(FundtrackerError):
    """The database cannot be opened or upgraded as asked."""


class DatabaseBusyError(DatabaseError):
    """Another writer kept the database busy longer than the wait allows; nothing changed."""


class ReadOnlyError(DatabaseError):
    """This user may read the database but not change it; nothing was changed."""


class NoSpaceError(FundtrackerError):
    """A file or the database could not be written for want of disk space; nothing was
    changed and nothing half-written was left."""
