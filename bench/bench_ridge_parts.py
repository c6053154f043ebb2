"""The streaming Ridge's two phases against their limits on this machine, in one process.

    .venv/bin/python bench/bench_ridge_parts.py            # 20k × 4096
    .venv/bin/python bench/bench_ridge_parts.py --n 50000

The pass (`moments`: centring, XᵀX, Xᵀy, Σx over the blocks a Split gives) is held against bare
BLAS `syrk` on the same chunks already in the pass's precision — the floor for the product
alone — twice: a pass as a fit makes it, and a second pass right after, whose buffers (the read
block, the float64 and float32 Grams, the centred chunk: about 0.3 GB) reuse memory the first
just freed. The difference is first-touch cost, which the last pass row measures: on a virtual
machine whose host backs memory lazily, fresh memory can cost more than the arithmetic on it.

The α path (9 α) is timed by each exact route: one Cholesky solve per α, the same plus the
inverse of each factor's triangle (GCV's trace), and one `eigh` (the route for long paths).
A and B alternate, and each figure is the median of `--repeat` runs, so a busy machine slows
both alike. About three minutes at 20k on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ALPHAS = np.array([1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6])
TARGETS = ("log_g", "T_eff", "Fe_H")


class MemorySource:
    """The least a Split needs: rows of a float32 matrix held in memory (no noise, no file)."""

    def __init__(self, flux: np.ndarray, labels: np.ndarray) -> None:
        self.flux, self._labels = flux, labels
        self.n, self.n_pixels = flux.shape
        self.wave = np.arange(self.n_pixels, dtype=np.float64)
        self.columns = TARGETS

    def param(self, name, index=None):
        column = self._labels[:, TARGETS.index(name)]
        return column if index is None else column[index]

    def read(self, index, out=None):
        block = self.flux[int(index[0]) : int(index[-1]) + 1]  # contiguous blocks only
        if out is None:
            return block, block
        out[0][...] = block  # a file's read into the split's buffer (the error is never used here)
        return out

    def fingerprint(self):
        return "memory"


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bare_syrk(flux: np.ndarray, dtype, chunk: int) -> None:
    from scipy.linalg import blas

    syrk = blas.ssyrk if dtype == np.float32 else blas.dsyrk
    g = np.zeros((flux.shape[1],) * 2, dtype, order="F")
    for start in range(0, len(flux), chunk):
        g = syrk(1.0, flux[start : start + chunk].T, beta=1.0, c=g, trans=0, lower=0, overwrite_c=1)


def fresh_memory_seconds_per_gib(mib: int = 256) -> float:
    """What a buffer costs before any arithmetic: on a virtual machine whose host backs memory
    lazily, pages the guest gave back cost a fault each when touched again."""
    time.sleep(3.0)  # long enough for freed pages to go back to the host
    start = time.perf_counter()
    np.ones(mib << 17)  # float64: mib MiB, written once
    return (time.perf_counter() - start) * 1024 / mib


def warm_memory_seconds_per_gib(mib: int = 256) -> float:
    a, b = np.ones(mib << 17), np.full(mib << 17, 2.0)  # both written once already
    return timed(lambda: np.copyto(b, a)) * 1024 / mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--pixels", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from engine.data.split import Split
    from engine.models.ridge import CHUNK_ROWS, alpha_path, moments

    rng = np.random.default_rng(0)
    flux = (1.0 + 0.05 * rng.standard_normal((args.n, args.pixels), dtype=np.float32)).astype(np.float32)
    labels = rng.standard_normal((args.n, 3))
    split = Split(MemorySource(flux, labels), np.arange(args.n), TARGETS)
    copies = {np.float32: flux, np.float64: flux.astype(np.float64)}

    print(f"| {args.n:,} × {args.pixels} | engine | limit | engine / limit |")
    print("|---|---|---|---|")
    for precision, dtype, name in (("float32", np.float32, "ssyrk"), ("float64", np.float64, "dsyrk")):
        fresh, warm, bare = [], [], []
        for _ in range(args.repeat):
            fresh.append(timed(lambda: moments(split, precision=precision)))
            warm.append(timed(lambda: moments(split, precision=precision)))  # right after: its buffers recycled
            bare.append(timed(lambda: bare_syrk(copies[dtype], dtype, CHUNK_ROWS)))
        a, w, b = statistics.median(fresh), statistics.median(warm), statistics.median(bare)
        print(f"| pass, {precision} Gram | {a:.2f} s | bare {name} on the same chunks {b:.2f} s | {a / b:.2f}× |")
        print(
            f"| pass, {precision} Gram, a second pass right after (memory already touched) | {w:.2f} s "
            f"| bare {name} {b:.2f} s | {w / b:.2f}× |"
        )
    rate = fresh_memory_seconds_per_gib()
    print(
        f"| first touch of fresh memory, after a pause | {rate:.2f} s per GiB | memcpy of warm memory "
        f"{warm_memory_seconds_per_gib():.2f} s per GiB | — |"
    )

    mo = moments(split, precision="float64")
    scale = np.sqrt(np.diag(mo.gram) / mo.n)
    gram = mo.gram / scale[:, None] / scale[None, :]
    b = mo.xty / scale[:, None]
    routes = {}
    for label, route, gcv in (
        ("9 Cholesky solves (validation)", "cholesky", False),
        ("9 Cholesky solves + their triangles' inverses (GCV)", "cholesky", True),
        ("one eigh", "eigh", True),
    ):
        routes[label] = statistics.median(  # a copy in the Gram's own (Fortran) layout, as the fit hands it over
            timed(lambda: alpha_path(gram.copy(order="K"), b, ALPHAS, route, "cpu", yty=mo.yty, need_rss=gcv))
            for _ in range(args.repeat)
        )
    eigh = routes["one eigh"]
    for label, seconds in routes.items():
        print(f"| α path, {label} | {seconds:.2f} s | one eigh {eigh:.2f} s | {seconds / eigh:.2f}× |")


if __name__ == "__main__":
    main()
