"""SQLite storage: schema and migrations (applied with sqlite-utils), one module per table family.

`open_store(path)` is the way in; everything else takes the `Database` it returns.
"""

from storage.db import Database, open_store

__all__ = ["Database", "open_store"]
