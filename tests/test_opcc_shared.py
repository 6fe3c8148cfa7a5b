"""Two OPCC officers on one shared database receive the same file at the same moment (issue 16):
one stores it, the other is told it was already received — never an IntegrityError.

On SQLite a writer takes the write lock before it reads (BEGIN IMMEDIATE), so the second
receive cannot start until the first has committed: the two cannot race there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from fundtracker.models import ReceivedReturn
from fundtracker.returns import submission
from fundtracker.storage import Database, open_database
from tests.conftest import POSTGRES_ENV, ROOT
from tests.figure_scenarios import main_grant
from tests.test_opcc_receiving import Q2

RECEIVE_AT_THE_SAME_TIME = """
    import json, sys, time
    from pathlib import Path
    from fundtracker.opcc import receiving
    from fundtracker.opcc.operations import ReceiveReturns
    from fundtracker.operations import run_operation
    from fundtracker.storage import open_database

    url, path, name, folder = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
    new_row = receiving._new_row

    def new_row_once_the_other_has_looked(verified, at):
        # Both have looked for the file and not found it before either stores it.
        (folder / f"ready-{name}").touch()
        deadline = time.monotonic() + 10
        while len(list(folder.glob("ready-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        return new_row(verified, at)

    receiving._new_row = new_row_once_the_other_has_looked
    db = open_database(url)
    [outcome] = run_operation(db, ReceiveReturns((path,))).result
    print(json.dumps(outcome.to_json()))
    db.dispose()
"""


@pytest.mark.skipif(
    not os.environ.get(POSTGRES_ENV), reason="SQLite writers queue (BEGIN IMMEDIATE): no race"
)
def test_the_same_file_received_at_once_on_a_shared_server_is_stored_once(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    partnership = open_database(str(tmp_path / "csp.sqlite3"))
    main_grant(partnership)
    workbook = tmp_path / "T-1 Q2.xlsx"
    submission.export_return(partnership, "T-1", Q2, workbook, prepared_by="Jo", submit=True)
    partnership.dispose()
    officers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                textwrap.dedent(RECEIVE_AT_THE_SAME_TIME),
                database_url,
                str(workbook),
                name,
                str(tmp_path),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("first", "second")
    ]
    answers = []
    for officer in officers:
        out, err = officer.communicate(timeout=120)
        assert officer.returncode == 0, err
        answers.append(json.loads(out))
    # Both looked before either stored it; the one whose insert waited gets the usual answer.
    assert sorted(a["status"] for a in answers) == ["added", "already"]
    [already] = [a for a in answers if a["status"] == "already"]
    assert already["reason"].startswith("already received from T-1 Q2.xlsx on ")
    with db.read() as session:
        stored = session.scalars(select(ReceivedReturn)).all()
        assert [(r.grant_reference, r.version_number, r.status) for r in stored] == [
            ("T-1", 1, "current")
        ]
