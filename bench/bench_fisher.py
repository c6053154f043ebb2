"""The data-derived Fisher ceiling against the exact one: how it converges with the size of the set.

    .venv/bin/python bench/bench_fisher.py                    # N = 2k, 5k, 10k, 20k × 4096 pixels
    .venv/bin/python bench/bench_fisher.py --big              # and 50k
    .venv/bin/python bench/bench_fisher.py --pixels 512 --sizes 3000,5000,20000

One synthetic set of the largest N is written as HDF5 (`synth.write_shards`, into a temporary
folder unless --dir keeps it) and read back as the user's files would be (a ShardSet). The same
spectra — its first --queries rows, a test set — get the exact ceiling (`fisher.ceiling`: the
generator's own finite-difference derivatives) and, for each N, the data-derived one
(`fisher_local.data_ceiling`) with the neighbours taken from the first N rows only. Printed per
N: ΔR² = data − exact per target in both forms (`r2`: combined with the prior; `r2_unbiased`:
1 − mean CRB / var), the 5 / 50 / 95 % points of σ_data / σ_exact per spectrum, the local fits'
leave-one-out χ² (`fit_chi2`), and the wall time of the estimate (the neighbour search,
the nuisance test, the reads and the fits). Goal: |ΔR²| ≤ 0.01 at 20k spectra and 4096 pixels.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rows import print_rows

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.data import synth  # noqa: E402
from engine.data.fisher import TARGETS, ceiling  # noqa: E402
from engine.data.fisher_local import data_ceiling  # noqa: E402
from engine.data.shards import ShardSet  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,5000,10000,20000", help="comma-separated N (neighbour pools)")
    parser.add_argument("--big", action="store_true", help="add N = 50000")
    parser.add_argument("--queries", type=int, default=2000, help="spectra whose ceiling is compared (the test set)")
    parser.add_argument("--pixels", type=int, default=synth.N_PIXELS)
    parser.add_argument("--level", type=float, default=1.0, help="noise level")
    parser.add_argument("--neighbours", type=int, default=None, help="k (default: 3 × the coefficients)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", default=None, help="keep (and reuse) the HDF5 set here")
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(",")} | ({50000} if args.big else set()))
    if args.queries > sizes[0]:
        raise SystemExit(f"--queries {args.queries} must not exceed the smallest N {sizes[0]}")

    with tempfile.TemporaryDirectory(prefix="bench-fisher-") as tmp:
        folder = Path(args.dir) if args.dir else Path(tmp)
        paths = _dataset(folder, sizes[-1], args.pixels, args.seed)
        source = ShardSet(paths)
        rows = np.arange(args.queries)
        t0 = time.perf_counter()
        params = {name: source.param(name, rows) for name in synth.PARAMS}
        exact = ceiling(params, level=args.level, n_pixels=args.pixels)
        t_exact = time.perf_counter() - t0
        print(
            f"{args.queries} test spectra × {args.pixels} pixels, noise level {args.level}; "
            f"exact ceiling in {t_exact:.1f} s:",
            ", ".join(f"{t} r2 {exact.r2[t]:.4f} (unbiased {exact.r2_unbiased[t]:.4f})" for t in TARGETS),
        )
        out = []
        for n in sizes:
            t0 = time.perf_counter()
            got = data_ceiling(source, rows, level=args.level, pool=np.arange(n), neighbours=args.neighbours)
            seconds = time.perf_counter() - t0
            ratio = {t: np.percentile(got.sigma_of(t) / exact.sigma_of(t), [5, 50, 95]) for t in TARGETS}
            for t in TARGETS:
                out.append(
                    (
                        f"N={n:>6} {t:<6} Δr2 {got.r2[t] - exact.r2[t]:+.4f}  Δr2_unbiased "
                        f"{got.r2_unbiased[t] - exact.r2_unbiased[t]:+.4f}",
                        f"σ/σ_exact {ratio[t][0]:.3f} {ratio[t][1]:.3f} {ratio[t][2]:.3f}",
                    )
                )
            out.append(
                (
                    f"N={n:>6} k={got.details['neighbours']} fitted {'+'.join(got.details['parameters'])}",
                    f"fit χ² {got.details['fit_chi2']:.2g} · {seconds:.1f} s",
                )
            )
        print_rows(out, ("data − exact", "σ_data / σ_exact (5 / 50 / 95 %), time"))
        source.close()


def _dataset(folder: Path, n: int, n_pixels: int, seed: int) -> list[Path]:
    """The set's files, written once (a kept --dir is reused when it holds at least n rows)."""
    path = folder / "shard_0" / "dataset.h5"
    if path.is_file():
        existing = ShardSet([path])
        fits = existing.n >= n and existing.n_pixels == n_pixels
        existing.close()
        if fits:
            return [path]
    t0 = time.perf_counter()
    paths = synth.write_shards(folder, n, 1, seed, n_pixels=n_pixels)
    print(f"wrote {n} × {n_pixels} synthetic spectra in {time.perf_counter() - t0:.0f} s")
    return paths


if __name__ == "__main__":
    main()
