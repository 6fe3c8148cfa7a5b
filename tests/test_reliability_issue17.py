"""Issue 17 (reliability II), the findings of restore, the clock, a full disk, shared evidence
and bounded XLSX reading: each test failed on the code before its fix."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from fundtracker import backup
from fundtracker.storage import open_database


class FakeClock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fundtracker.demo import load_demo

    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    database = open_database(str(path))
    load_demo(database)
    database.dispose()
    return path


@pytest.fixture
def demo_file(demo_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "work" / "fundtracker.sqlite3"
    path.parent.mkdir()
    shutil.copyfile(demo_template, path)
    return path


# --- Backup retention and a clock that ran fast ------------------------------------------


def _daily_days(database: Path) -> set[date]:
    return {b.taken_at.date() for b in backup.list_backups(database) if b.kind == "daily"}


def test_retention_survives_a_clock_that_ran_fast_and_was_corrected(
    demo_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(datetime(2025, 4, 1, 9, 0, tzinfo=UTC))
    monkeypatch.setattr(backup, "now_utc", clock)
    monkeypatch.setattr("fundtracker.dates.now_utc", clock)
    # 1-15 April the clock says 60 days later: 31 May to 14 June.
    for day in range(15):
        clock.now = datetime(2025, 5, 31, 9, tzinfo=UTC) + timedelta(days=day)
        assert backup.daily_backup(demo_file) is not None
    # Corrected: 16, 17 and 18 April, one backup a day. Before the fix, each day's backup
    # was deleted the next day (April's newest was the only one the rule kept: the 14 most
    # recent days were all future-dated).
    for day in (16, 17, 18):
        clock.now = datetime(2025, 4, day, 9, tzinfo=UTC)
        assert backup.daily_backup(demo_file) is not None
    days = _daily_days(demo_file)
    assert {date(2025, 4, 16), date(2025, 4, 17), date(2025, 4, 18)} <= days
    # The future-dated ones are kept too (they are real backups of 1-15 April): 15 + 3.
    assert len(days) == 18


def test_retention_never_deletes_the_newest_backups_for_a_future_dated_one() -> None:
    now = datetime(2025, 4, 20, 12, tzinfo=UTC)

    def daily(taken: datetime) -> backup.Backup:
        return backup.Backup(Path(f"x-daily-{taken:%Y%m%dT%H%M%S}.000Z.sqlite3"), "daily", taken)

    past = [daily(now - timedelta(days=n)) for n in range(20)]  # 1-20 April
    future = [daily(now + timedelta(days=400))]  # a clock a year fast, once
    kept = backup.daily_backups_to_keep(past + future, now)
    # The future one counts for nothing and stays; the 14 newest real days are kept (April's
    # newest, for the month rule, is one of them): 15 kept in all. Before the fix the future
    # one took a day's place and a month's, and 7-8 April's backups were not kept.
    assert kept == {b.path for b in past[:14]} | {future[0].path}
