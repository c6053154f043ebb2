"""What the synthetic generator can make, without numpy: its version, its parameter ranges and
its pixel count.

`research check` and a dry run validate a synthetic spec (can the selections leave enough
spectra? is the set already cached?) from these alone, so they live apart from the generator
(`engine.data.synth`, which re-exports them) and importing them costs no numpy.
"""

from __future__ import annotations

from collections.abc import Mapping

#: Bump whenever the model in `engine.data.synth` changes: cached synthetic data is keyed by it.
GENERATOR_VERSION = 6

RANGES: dict[str, tuple[float, float]] = {
    "T_eff": (3750.0, 6000.0),
    "log_g": (1.0, 5.0),
    "Fe_H": (-1.0, 0.0),
    "mag": (19.5, 22.7),
}
PARAMS = ("T_eff", "log_g", "Fe_H", "mag")
N_PIXELS = 4096
T_COVERED = (2500.0, 12000.0)  # K: the generator's continuum series is exact to 1e-10 over this range


def resolve_ranges(ranges: Mapping[str, tuple[float, float]] | None) -> dict[str, tuple[float, float]]:
    out = dict(RANGES)
    t_min, t_max = T_COVERED
    for name, bounds in (ranges or {}).items():
        name = "Fe_H" if name == "M_H" else name
        if name not in RANGES:
            raise ValueError(f"unknown generator parameter {name!r}; parameters are {', '.join(RANGES)}")
        lo, hi = (float(b) for b in bounds)
        if not lo <= hi:
            raise ValueError(f"range of {name} must have lo <= hi, got [{lo}, {hi}]")
        if name == "T_eff" and not (t_min <= lo and hi <= t_max):
            raise ValueError(f"the generator covers T_eff in [{t_min:.0f}, {t_max:.0f}] K, got [{lo}, {hi}]")
        out[name] = (lo, hi)
    return out
