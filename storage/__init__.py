"""SQLite storage through sqlite-utils: schema, migrations and one module per table family.

`open_store(path)` is the way in; everything else takes the `Database` it returns.
"""

from storage.db import open_store

__all__ = ["open_store"]
