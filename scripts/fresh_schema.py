"""Write storage/fresh_schema.py: the statements that make the schema every migration makes
(run after adding a migration; tests/test_storage.py says when it is due).

Run: .venv/bin/python scripts/fresh_schema.py
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.db import Database  # noqa: E402
from storage.schema import fresh_schema_module, migrations  # noqa: E402

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        db = Database(sqlite3.connect(Path(folder) / "fresh.db", isolation_level=None))
        migrations.apply(db)
        text = fresh_schema_module(db)
        db.conn.close()
    target = ROOT / "storage" / "fresh_schema.py"
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}: {text.count(chr(10))} lines")
