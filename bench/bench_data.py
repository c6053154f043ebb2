"""Benchmarks of the data layer (prints a table; no asserts).

    .venv/bin/python bench/bench_data.py [--rows 70000]

1. the synthetic generator, spectra/s (all cores, and one);
2. the streaming reader against plain h5py on the same file (flux + error, 8192-row blocks, warm
   page cache): GB/s and the ratio;
3. peak RSS while streaming `Split.blocks()` over the first N rows of a file larger than 2 GB, for
   several N (each in a fresh process): flat in N when memory is bounded.
The file is written to a temporary folder and deleted afterwards. Noise draws: bench_noise.py.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rows import print_rows

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.data import synth  # noqa: E402

BLOCK = 8192


def best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_generator(n=20000):
    synth.generate(256, seed=0)  # build the model tables
    params = synth.draw_params(n, seed=1)
    flux = np.zeros((n, synth.N_PIXELS), np.float32)
    error, snr = np.zeros_like(flux), np.zeros(n)
    rows = []
    for workers in (synth._threads(), 1):
        t = best(lambda: synth._run(n, params, flux, error, snr, synth.N_PIXELS, workers=workers), 2)
        rows.append((f"generator, {workers} thread{'s' if workers > 1 else ''}", f"{n / t:,.0f} spectra/s"))
    return rows


def bench_reader(path: Path, rows: int):
    import h5py

    from engine.data.shards import ShardSet

    nbytes = 2 * rows * synth.N_PIXELS * 4

    def plain():
        with h5py.File(path, "r") as f:
            for a in range(0, rows, BLOCK):
                f["flux"][a : a + BLOCK]
                f["error"][a : a + BLOCK]

    def direct():
        with h5py.File(path, "r") as f:
            fb = np.empty((BLOCK, synth.N_PIXELS), np.float32)
            eb = np.empty_like(fb)
            for a in range(0, rows, BLOCK):
                b = min(a + BLOCK, rows)
                f["flux"].read_direct(fb[: b - a], source_sel=np.s_[a:b])
                f["error"].read_direct(eb[: b - a], source_sel=np.s_[a:b])

    shards = ShardSet([path])

    def ours():
        for a in range(0, rows, BLOCK):
            shards.read(np.arange(a, min(a + BLOCK, rows)))

    def ours_reused():
        fb = np.empty((BLOCK, synth.N_PIXELS), np.float32)
        eb = np.empty_like(fb)
        for a in range(0, rows, BLOCK):
            b = min(a + BLOCK, rows)
            shards.read(np.arange(a, b), out=(fb[: b - a], eb[: b - a]))

    from engine.data.split import Split

    split = Split(shards, np.arange(rows), ("log_g",))

    def plain_flux():
        with h5py.File(path, "r") as f:
            for a in range(0, rows, BLOCK):
                f["flux"][a : a + BLOCK]

    def stream(reuse):
        return lambda: [None for _ in split.blocks(BLOCK, reuse=reuse)]

    plain()  # warm the page cache
    t_plain, t_direct, t_ours, t_reused = (best(fn) for fn in (plain, direct, ours, ours_reused))
    t_pf, t_fresh, t_reuse = (best(fn) for fn in (plain_flux, stream(False), stream(True)))
    gb = nbytes / 1e9
    return [
        ("plain h5py ds[a:b], flux only", f"{gb / 2 / t_pf:.2f} GB/s"),
        ("Split.blocks(), noise-free (flux only)", f"{gb / 2 / t_fresh:.2f} GB/s = {t_pf / t_fresh:.0%} of plain h5py"),
        ("Split.blocks(reuse=True), noise-free", f"{gb / 2 / t_reuse:.2f} GB/s = {t_pf / t_reuse:.0%} of plain h5py"),
        ("plain h5py ds[a:b], flux + error", f"{gb / t_plain:.2f} GB/s"),
        ("h5py read_direct, reused buffers", f"{gb / t_direct:.2f} GB/s"),
        (
            "ShardSet.read (new arrays, NaN/inf checked)",
            f"{gb / t_ours:.2f} GB/s = {t_plain / t_ours:.0%} of plain h5py",
        ),
        (
            "ShardSet.read into reused buffers",
            f"{gb / t_reused:.2f} GB/s = {t_plain / t_reused:.0%} of plain, {t_direct / t_reused:.0%} of read_direct",
        ),
    ]


RSS_CHILD = """
import resource, sys, numpy as np
sys.path.insert(0, {root!r})
from engine.data.shards import ShardSet
from engine.data.split import Split
src = ShardSet([{path!r}])
split = Split(src, np.arange({n}), ("log_g", "T_eff"), noise_level=1.0, noise_seed=1)
total = 0.0
for block in split.blocks():
    total += float(block.x[:, 0].sum())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def bench_rss(path: Path, rows: int):
    out = []
    for n in sorted({min(rows, 10000), rows // 2, rows}):
        code = RSS_CHILD.format(root=str(ROOT), path=str(path), n=n)
        t0 = time.perf_counter()
        peak = float(
            subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()[-1]
        )
        dt = time.perf_counter() - t0
        gb = 2 * n * synth.N_PIXELS * 4 / 1e9
        out.append((f"peak RSS streaming {n:,} rows ({gb:.2f} GB, noise on)", f"{peak:,.0f} MB ({dt:.1f} s)"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=70000, help="rows of the big file (70000 ≈ 2.3 GB)")
    args = parser.parse_args()
    results = bench_generator()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = synth.write_shards(tmp, args.rows, 1, seed=0)[0]
        write = time.perf_counter() - t0
        results.append(
            (
                f"write_shards {args.rows:,} spectra ({path.stat().st_size / 1e9:.2f} GB)",
                f"{write:.1f} s = {args.rows / write:,.0f} spectra/s",
            )
        )
        results += bench_reader(path, args.rows)
        results += bench_rss(path, args.rows)
    print_rows(results, header=("what", "result"))


if __name__ == "__main__":
    main()
