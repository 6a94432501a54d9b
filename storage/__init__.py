"""SQLite storage through sqlite-utils: schema, migrations and one module per table family.

`open_store(path)` is the way in; everything else takes the `Database` it returns.
"""

import sys


def _load_sqlite_utils() -> None:
    """Import sqlite-utils without numpy (and pandas).

    sqlite-utils imports numpy when it is installed, only to give numpy's scalar types a column
    type when it creates tables from rows; casewatch creates its tables by migration and stores
    vectors as bytes. numpy costs about 0.2 s of every command's start, and most commands never
    compute a vector (the code that does imports it there). The modules are hidden while
    sqlite-utils loads, whatever was imported before, so it behaves the same in every process.
    Modules of the core that name `Database` import it for type checking only: this package is
    what loads sqlite-utils.
    """
    if "sqlite_utils" in sys.modules:
        return
    hidden = {name: sys.modules.get(name) for name in ("numpy", "pandas")}
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # `import numpy` now fails at once
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name, module in hidden.items():
            if module is None:
                del sys.modules[name]
            else:
                sys.modules[name] = module


_load_sqlite_utils()

from storage.db import open_store  # noqa: E402

__all__ = ["open_store"]
