"""The data part of a trial's cache key, computed without reading the data when possible.

Synthetic data is a pure function of the spec (already in the key) and of the generator, whose
code is in the key too (`store.engine_code_hash`): its fingerprint is the word itself. HDF5 shards
are fingerprinted by content (shapes, dtypes and hashes of sampled rows, `ShardSet.fingerprint`),
which needs h5py; the answer is remembered under `.research/cache/fingerprints.json` keyed by
each file's path, size and mtime, so a re-run only stats the files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.notebook.store import digest
from engine.text.textfile import atomic_write

SYNTHETIC = "synthetic"


def data_fingerprint(data, *, base_dir: Path, cache_dir: Path) -> str:
    parts: list[Any] = [_source_fingerprint(data.source, data, base_dir, cache_dir)]
    if data.test_source is not None:
        parts.append(_keyed(data.test_source, data, base_dir, cache_dir, "data.test_source"))
    for name, test in getattr(data, "tests", {}).items():  # named test sets with files of their own
        if test.source is not None:
            parts.append([name, _keyed(test.source, data, base_dir, cache_dir, f"data.tests.{name}.source")])
    return digest(parts)


def _keyed(source: str, data, base_dir: Path, cache_dir: Path, key: str) -> str:
    """A source other than `data.source`: its problem is put at the key that names it."""
    from engine.errors import DataError

    try:
        return _source_fingerprint(source, data, base_dir, cache_dir)
    except DataError as error:
        raise error.placed(key, source) from None


def _source_fingerprint(source: str, data, base_dir: Path, cache_dir: Path) -> str:
    if source == SYNTHETIC:
        return SYNTHETIC
    from engine.data.shards import expand

    files = expand(source, base_dir)
    stats = [(str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    keys = data.keys.model_dump() if data.keys is not None else None
    memo_key = digest(stats, keys)
    memo_path = cache_dir / "fingerprints.json"
    try:
        memo = json.loads(memo_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        memo = {}
    if memo_key in memo:
        return memo[memo_key]
    from engine.data.shards import open_shards

    value = open_shards(source, base_dir=base_dir, keys=data.keys).fingerprint()
    memo[memo_key] = value
    atomic_write(memo_path, json.dumps(memo, indent=0, sort_keys=True).encode())
    return value
