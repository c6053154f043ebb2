"""The user's data at full size: Ridge, LightGBM and an MLP epoch through `research run` on N × 4096 spectra.

    .venv/bin/python bench/bench_scale.py [--n 1000000] [--dir /tmp/research-bench-scale] [--models ridge,lightgbm,mlp]

Writes the user's layout once (kept in --dir for re-runs): N training spectra in five shards
`train_<N/5>_{0..4}/dataset.h5` and a test file `test_<N/100>/dataset.h5` (at least 2,000
spectra), noiseless flux + per-pixel error as float32 — 33 GB at N = 1M. Then a git notebook
with one report runs each model as `research run exp.md --trial <model>`, in a process of its
own, with noise 1.0 added at load, and the table gives each one's wall time (the whole command:
validation, data, fit, test, render, commit) and peak RSS (`ru_maxrss` of the command):

  ridge     the 9-α path (GCV per α) from a Gram matrix built in 8192-row blocks: P² floats,
            whatever N;
  lightgbm  `binned:8` features (512 per spectrum) built block by block, then LightGBM's own
            Dataset of them: N × 512 floats, not N × 4096;
  mlp       one epoch streamed in chunks of `train.stream_rows` (65,536) spectra: one chunk in
            memory and the next being read, whatever N.

The first `research run` on a file set also checks every spectrum it reads is finite (a streamed
pass, remembered per file fingerprint); that pass is in the first model's wall time.
CI runs this at N = 20,000 (`tests/test_bench_scale.py`); at 1M it needs ~40 GB of disk.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rows import print_rows

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESEARCH = str(Path(sys.executable).with_name("research"))
SHARDS = 5

MODELS = {
    "ridge": {"model": {"type": "ridge"}},
    "lightgbm": {"model": {"type": "lightgbm", "features": "binned:8", "n_estimators": 300, "learning_rate": 0.1}},
    "mlp": {"model": {"type": "mlp"}, "train": {"epochs": 1, "batch_size": 256, "stream_rows": 65536, "device": "cpu"}},
}
WHAT = {
    "ridge": "Ridge, 9-α path",
    "lightgbm": "LightGBM, binned:8 features, 300 rounds",
    "mlp": "MLP 512-256, one streamed epoch",
}
# Runs a command and prints the peak RSS of its process tree's largest member (a fresh parent,
# so RUSAGE_CHILDREN holds this command alone).
MEASURE = (
    "import json, resource, subprocess, sys, time; t = time.perf_counter(); "
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
    "print(json.dumps({'rc': done.returncode, 'wall': time.perf_counter() - t, "
    "'rss_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "
    "'out': done.stdout[-4000:], 'err': done.stderr[-2000:]}))"
)


def short(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 and n >= 1000 else str(n)


def write_layout(folder: Path, n: int, n_test: int) -> tuple[str, str]:
    """The user's layout under `folder`, written once; (training pattern, test path)."""
    from engine.data import synth

    per = n // SHARDS
    train = [folder / f"train_{short(per)}_{k}" / "dataset.h5" for k in range(SHARDS)]
    test = folder / f"test_{short(n_test)}" / "dataset.h5"
    if not all(p.is_file() for p in (*train, test)):
        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        scratch = folder / ".scratch"
        synth.write_shards(scratch / "train", per * SHARDS, SHARDS, seed=0)
        for k, path in enumerate(train):
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(scratch / "train" / f"shard_{k}" / "dataset.h5", path)
        synth.write_shards(scratch / "test", n_test, 1, seed=0, start=per * SHARDS)  # rows after the training stars
        test.parent.mkdir(parents=True, exist_ok=True)
        os.replace(scratch / "test" / "shard_0" / "dataset.h5", test)
        shutil.rmtree(scratch)
        size = sum(p.stat().st_size for p in (*train, test)) / 1e9
        print(
            f"wrote {per * SHARDS:,} + {n_test:,} spectra ({size:.1f} GB) in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    return str(folder / f"train_{short(per)}_{{0..{SHARDS - 1}}}" / "dataset.h5"), str(test)


def write_notebook(folder: Path, train: str, test: str, models: list[str]) -> Path:
    import yaml

    notebook = folder / "notebook"
    shutil.rmtree(notebook, ignore_errors=True)
    notebook.mkdir(parents=True)
    spec = {
        "id": "BENCH-SCALE",
        "title": "the user's data at full size",
        "data": {"source": train, "test_source": test, "targets": ["log_g"], "n_val": 0},
        "noise": {"level": 1.0},
        "model": {"type": "ridge"},
        "trials": {name: MODELS[name] for name in models},
        "metrics": ["r2.log_g", "mae.log_g"],
    }
    text = (
        "---\n"
        + yaml.safe_dump(spec, sort_keys=False)
        + (
            "---\n# Scale\n\n<!-- research:results -->\n<!-- /research:results -->\n\n"
            "<!-- research:record -->\n<!-- /research:record -->\n"
        )
    )
    (notebook / "exp.md").write_text(text, encoding="utf-8")
    for command in (
        ["init", "-q"],
        ["add", "exp.md"],
        ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qm", "bench"],
    ):
        subprocess.run(["git", *command], cwd=notebook, check=True)
    return notebook


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="training spectra (five shards)")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/research-bench-scale"))
    parser.add_argument("--models", default="ridge,lightgbm,mlp")
    args = parser.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        parser.error(f"unknown model {unknown[0]}; models: {', '.join(MODELS)}")
    n_test = max(2000, args.n // 100)
    folder = args.dir / f"n{args.n}"
    train, test = write_layout(folder, args.n, n_test)
    size = sum(p.stat().st_size for p in folder.rglob("*.h5")) / 1e9
    notebook = write_notebook(folder, train, test, models)
    rows, failed = [], 0
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@localhost",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@localhost",
    }
    for name in models:
        done = subprocess.run(
            [sys.executable, "-c", MEASURE, RESEARCH, "run", "exp.md", "--trial", name],
            cwd=notebook,
            capture_output=True,
            text=True,
            env=env,
        )
        out = json.loads(done.stdout.strip().splitlines()[-1])
        label = f"{WHAT[name]}, {args.n:,} × 4096 ({size:.1f} GB)"
        if out["rc"] != 0:
            failed += 1
            rows.append((label, "failed: " + (out["err"].strip().splitlines() or ["?"])[-1]))
            continue
        r2 = _metric(notebook, name)
        rows.append((label, f"wall {out['wall']:.0f} s, peak RSS {out['rss_mb']:,.0f} MB, test R² {r2}"))
    print_rows(rows)
    return 1 if failed else 0


def _metric(notebook: Path, trial: str) -> str:
    from engine.text import document

    body = document.regions((notebook / "exp.md").read_text(encoding="utf-8"))["results"].body
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in body.splitlines() if line.startswith("|")]
    column = rows[0].index("r2.log_g") if rows and "r2.log_g" in rows[0] else 1
    for cells in rows[2:]:
        if cells and cells[0].split(" ")[0] == trial:
            return cells[column]
    return "?"


if __name__ == "__main__":
    sys.exit(main())
