"""Where local experts win: the oracle mixture of 9 Ridge experts against one global Ridge as N grows.

    .venv/bin/python bench/bench_moe_scaling.py [--n 20000 50000 100000 200000] [--noise 1.0] [--mag 21]

The user's 1M real spectra give an oracle 9-expert MoE 0.62 against a global Ridge 0.46 (log g
R²). On the synthetic spectra (generator v6, 4096 pixels, noise 1.0, one 2,000-spectrum test set
of its own rows) this prints, per N, the test R² of a global Ridge at α = 1e4 (the MoE examples'
α), a global Ridge with α chosen by generalised cross-validation on its default path, and the
oracle MoE (Teff × [Fe/H] 3 × 3 cells, each expert a Ridge at α = 1e4, every test spectrum sent to
the expert of its true cell): where the curves cross is where the data per cell is enough for
local linear models to beat one global one.

`--mag M` draws every spectrum (train and test) at magnitude M instead of the default range: the
same question with the brightness scale taken out. The flux scales with brightness over a factor
of ~19 across the range, a product no linear model can undo, and each expert has to learn that
with a ninth of the data; comparing the two runs says how much of the experts' deficit is that.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rows import print_rows

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[20_000, 50_000, 100_000, 200_000])
    parser.add_argument("--noise", type=float, default=1.0)
    parser.add_argument("--mag", type=float, default=None, help="hold every spectrum at this magnitude")
    args = parser.parse_args()

    import numpy as np

    from engine.data import synth
    from engine.data.split import Split
    from engine.models import build

    ranges = None if args.mag is None else {"mag": (args.mag, args.mag)}
    test_source = synth.generate(2000, seed=0, start=1 << 40, ranges=ranges)
    test = Split(test_source, np.arange(2000), ("log_g",), noise_level=args.noise, noise_seed=7, noise_epoch=-1)
    truth = test.labels()[:, 0]
    models = {
        "global ridge α=1e4": {"type": "ridge", "alpha": 1e4},
        "global ridge (GCV α)": {"type": "ridge"},
        "oracle MoE 3×3 (α=1e4)": {"type": "moe", "experts": "grid", "alpha": 1e4, "gate": "oracle"},
    }
    rows = []
    for n in args.n:
        t = time.perf_counter()
        source = synth.generate(n, seed=0, ranges=ranges)
        train = Split(source, np.arange(n), ("log_g",), noise_level=args.noise, noise_seed=7, noise_epoch=0)
        made = time.perf_counter() - t
        cells = []
        for name, spec in models.items():
            model = build(spec, {"device": "cpu", "seed": 1}, ["log_g"])
            t = time.perf_counter()
            model.fit(train, None)
            pred = model.predict(test)[:, 0]
            r2 = 1 - ((pred - truth) ** 2).mean() / truth.var()
            extra = ""
            if spec["type"] == "ridge" and "alpha" not in spec:
                extra = f", α {model.info()['alpha']['log_g']:g}"
            cells.append(f"{name} {r2:.4f}{extra} ({time.perf_counter() - t:.0f} s)")
        rows.append((f"N = {n:,} (generated in {made:.0f} s)", "; ".join(cells)))
        print_rows(rows[-1:])
        del source, train
    print()
    at = "" if args.mag is None else f", every spectrum at mag {args.mag:g}"
    print_rows(rows, header=("training spectra", f"test log g R² (2,000 spectra, noise {args.noise:g}{at})"))


if __name__ == "__main__":
    main()
