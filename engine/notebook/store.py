"""The run store: every finished trial, content-addressed, under `.research/runs/`.

A trial's key is a hash of what decides its numbers — the resolved trial config, the data
fingerprint, and the code that trains and scores it (`code_version`) — and nothing else: the
report's prose, the trial's name and the reporting sections of the spec are not in it. So an
edited paragraph re-runs nothing, and two reports running the same config share one result.

A record is a folder: `record.json` (config, metrics, model info, provenance),
`predictions.h5` (truth, predictions and the parameters tables are binned by) and the fitted
model — `model.npz` (a built-in model's checkpoint: the whole predictor, its config inside,
`engine.models.load` reads it) or `model.bin` (what a plugin's own `save` wrote); a model that
cannot be saved is not kept. It is written to a temporary folder and renamed into place, so a
killed run leaves either a whole record or none — the next run resumes from the trials that
finished. Artifacts that several trials share (a mixture's experts) live beside the records,
under `experts/`, with keys of their own.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine import __version__

RECORD = "record.json"
PREDICTIONS = "predictions.h5"
MODEL = "model.npz"  # a built-in model's checkpoint (engine.models.load)
PLUGIN_MODEL = "model.bin"  # what a plugin model's own save() wrote
MODEL_FILES = (MODEL, PLUGIN_MODEL)
EXPERTS = "experts"  # shared MoE experts: <runs>/experts/<key[:2]>/<key>/
# The modules whose code decides a trial's numbers; a change to any of them is "code changed".
NUMERIC_CODE = ("models", "data", "metrics.py")


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(*parts: Any, length: int = 16) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(canonical(part).encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:length]


@lru_cache(maxsize=1)
def engine_code_hash() -> str:
    """Hash of the engine code that produces numbers (models, data, metrics) and its version.

    A hashed path that is gone is an error, not a smaller hash: a moved module would otherwise
    make every stored result look valid for code that no longer exists."""
    package = Path(__file__).resolve().parents[1]  # engine/
    h = hashlib.sha256(__version__.encode())
    for name in NUMERIC_CODE:
        target = package / name
        if not target.exists():
            raise RuntimeError(f"the code hash reads {target}, which does not exist; update store.NUMERIC_CODE")
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
        if not files:
            raise RuntimeError(f"the code hash reads {target}, which holds no Python file")
        for path in files:
            h.update(path.relative_to(package).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def plugin_code_hash(model_type: str, root: Path) -> str | None:
    """Hash of a plugin model's module file (`package.module:factory`), found without importing it."""
    if ":" not in model_type:
        return None
    module = model_type.split(":", 1)[0]
    relative = Path(*module.split("."))
    for candidate in (root / relative.with_suffix(".py"), root / relative / "__init__.py"):
        if candidate.is_file():
            return hashlib.sha256(candidate.read_bytes()).hexdigest()[:16]
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is not None and spec.origin and Path(spec.origin).is_file():
        return hashlib.sha256(Path(spec.origin).read_bytes()).hexdigest()[:16]
    return "missing"


@dataclass(frozen=True)
class KeyParts:
    """What a trial key is made of, kept so a re-run can say *why* a trial runs again."""

    config: str
    data: str
    code: str

    @property
    def key(self) -> str:
        return digest(self.config, self.data, self.code)

    def reason_against(self, previous: Mapping[str, str] | None) -> str:
        if not previous:
            return "new"
        if previous.get("config") != self.config:
            return "spec changed"
        if previous.get("data") != self.data:
            return "data changed"
        if previous.get("code") != self.code:
            return "code changed"
        return "new"


def key_parts(config: Mapping[str, Any], data_fingerprint: str, code: str) -> KeyParts:
    return KeyParts(config=digest(config), data=data_fingerprint, code=code)


@dataclass
class TrialRecord:
    key: str
    trial: str
    config: dict[str, Any]
    metrics: dict[str, dict[str, float]]
    parts: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "trial": self.trial,
            "config": self.config,
            "metrics": self.metrics,
            "parts": self.parts,
            "info": self.info,
            "provenance": self.provenance,
            "log": self.log,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "TrialRecord":
        fields: dict[str, Any] = {
            k: data.get(k) if data.get(k) is not None else default for k, default in _DEFAULTS.items()
        }
        return cls(**fields)


_DEFAULTS: dict[str, Any] = {
    "key": "",
    "trial": "",
    "config": {},
    "metrics": {},
    "parts": {},
    "info": {},
    "provenance": {},
    "log": [],
}


class RunStore:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def has(self, key: str) -> bool:
        return (self.path(key) / RECORD).is_file()

    def config_of(self, parts: Any) -> dict[str, Any] | None:
        """The config a run record's trial (`parts` as the record keeps them) was stored with, read
        only: what the browse API and the digest show; None when it is not (or no longer) stored."""
        if not isinstance(parts, Mapping) or set(parts) != {"config", "data", "code"}:
            return None
        try:
            data = json.loads((self.path(KeyParts(**parts).key) / RECORD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        config = data.get("config") if isinstance(data, dict) else None
        return config if isinstance(config, dict) else None

    def load(self, key: str) -> TrialRecord | None:
        """The stored trial, or None; a record that cannot be read (a disk error, a hand edit) is
        removed, so the trial runs again and its new record takes the place."""
        folder = self.path(key)
        try:
            data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("key") != key or not (folder / PREDICTIONS).is_file():
                raise ValueError("not a whole record")
            return TrialRecord.from_json(data)
        except FileNotFoundError:
            if folder.is_dir():  # a folder without its record.json: not a result
                shutil.rmtree(folder, ignore_errors=True)
            return None
        except (ValueError, TypeError, UnicodeDecodeError):
            shutil.rmtree(folder, ignore_errors=True)
            return None

    def save(
        self,
        record: TrialRecord,
        predictions: Mapping[str, Any] | None = None,
        model: tuple[str, bytes] | None = None,
        *,
        replace: bool = False,
    ) -> Path:
        """Write a whole record or nothing: build it in a temp folder, then rename it in.

        `model`: (file name, bytes) of the fitted model (`MODEL` or `PLUGIN_MODEL`). A record
        already there is kept (a concurrent run of the same trial finished first: the same
        result) unless `replace` — a retraining asked for (--retrain), whose numbers the report is about to show,
        must not leave the store holding others for the same key."""
        target = self.path(record.key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{record.key}.", dir=target.parent))
        try:
            if predictions is not None:
                write_predictions(tmp / PREDICTIONS, predictions)
            if model is not None:
                name, data = model
                if name not in MODEL_FILES:
                    raise ValueError(f"a stored model is one of {MODEL_FILES}, not {name!r}")
                with open(tmp / name, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            with open(tmp / RECORD, "w", encoding="utf-8") as handle:
                json.dump(record.to_json(), handle, indent=1, sort_keys=True, ensure_ascii=False)
                handle.flush()
                os.fsync(handle.fileno())
            if not replace and target.exists() and self.load(record.key) is not None:
                shutil.rmtree(tmp)  # a concurrent run finished the same trial: same content
            else:
                shutil.rmtree(target, ignore_errors=True)  # a broken record is replaced
                os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target

    def predictions(self, key: str) -> dict[str, Any]:
        return read_predictions(self.path(key) / PREDICTIONS)

    def model_path(self, key: str) -> Path | None:
        """The stored trial's model file, or None (not stored, or its model could not be saved)."""
        return model_file(self.path(key))

    @property
    def experts_dir(self) -> Path:
        return self.folder / EXPERTS


def model_file(folder: Path) -> Path | None:
    """The model file in a record folder, or None."""
    for name in MODEL_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def model_meta(path: Path) -> dict[str, Any] | None:
    """The JSON `__meta__` of a checkpoint (`model.npz`), read without numpy (a zip of .npy
    files; `__meta__` is a uint8 array of UTF-8 JSON); None when it cannot be read."""
    import ast
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            raw = archive.read("__meta__.npy")
        if raw[:6] != b"\x93NUMPY":
            return None
        major = raw[6]
        size_bytes = 2 if major == 1 else 4
        header_len = int.from_bytes(raw[8 : 8 + size_bytes], "little")
        start = 8 + size_bytes
        header = ast.literal_eval(raw[start : start + header_len].decode("latin1"))
        if header.get("descr") not in ("|u1", "<u1"):
            return None
        value = json.loads(raw[start + header_len :].decode("utf-8"))
        return value if isinstance(value, dict) else None
    except (OSError, KeyError, ValueError, SyntaxError, zipfile.BadZipFile):
        return None


def write_predictions(path: Path, arrays: Mapping[str, Any]) -> None:
    import h5py
    import numpy as np

    with h5py.File(path, "w", track_order=True) as handle:
        for name, values in arrays.items():
            handle.create_dataset(name, data=np.asarray(values))


def read_predictions(path: Path) -> dict[str, Any]:
    import h5py

    with h5py.File(path, "r") as handle:
        return {name: handle[name][()] for name in handle}


class ReportIndex:
    """Per report, what its last run here left: each trial's key parts (to say *why* a trial
    runs again), the render key and region checksums (to skip a re-render), the run record
    (for a report without a `record` region). `.research/reports/<id>.json`, beside the runs."""

    def __init__(self, state_dir: str | Path):
        self.folder = Path(state_dir) / "reports"

    def path(self, report_id: str) -> Path:
        return self.folder / f"{report_id}.json"

    def read(self, report_id: str) -> dict[str, Any]:
        try:
            value = json.loads(self.path(report_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    def update(self, report_id: str, **values: Any) -> None:
        from engine.text.textfile import atomic_write

        current = self.read(report_id)
        data = {**current, **values}
        if data == current and self.path(report_id).is_file():  # a re-run that changed nothing: no write, no fsync
            return
        atomic_write(
            self.path(report_id), json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")
        )
