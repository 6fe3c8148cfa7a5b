"""Developer tool: write a new migration by comparing the models with the current head.

Usage: python -m fundtracker.migrations.new "what changed" [REVISION_ID]
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from fundtracker.storage import alembic_config


def main(message: str, rev_id: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{Path(folder) / 'head.sqlite3'}")
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            script = command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
        engine.dispose()
    for item in script if isinstance(script, list) else [script]:
        if item is None:
            continue
        path = Path(item.path)
        text = path.read_text()
        text = text.replace("fundtracker.models.Pence()", "sa.BigInteger()")
        text = text.replace("fundtracker.models.UtcDateTime()", "sa.DateTime()")
        text = re.sub(r"^import fundtracker\.models\n", "", text, flags=re.M)
        path.write_text(text.replace(" - please adjust! ###", " ###"))
        print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
