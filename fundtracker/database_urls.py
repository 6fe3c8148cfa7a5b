"""The address of a shared (PostgreSQL) database as the officer types it, and the password
they are asked for: put together in memory for the connection only, never written anywhere."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from fundtracker.errors import FieldError, ValidationError

EXAMPLE = "postgresql+psycopg://USER@SERVER/fundtracker"


def shared_database_url(url: str, password: str = "") -> str:
    """``url`` with ``password`` put in, refused with a clear message when it is not the
    address of a PostgreSQL database naming its user, server and database."""
    place = "Shared database address"
    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        raise ValidationError(FieldError(place, f"is not an address like {EXAMPLE}")) from None
    if not parsed.drivername.startswith("postgresql"):
        raise ValidationError(FieldError(place, f"must be a PostgreSQL address like {EXAMPLE}"))
    if not (parsed.username and parsed.host and parsed.database):
        raise ValidationError(
            FieldError(place, f"must name the user, the server and the database: {EXAMPLE}")
        )
    if parsed.password is not None:
        raise ValidationError(
            FieldError(place, "leave the password out of the address; type it in Password")
        )
    if password:
        parsed = parsed.set(password=password)
    return parsed.render_as_string(hide_password=False)
