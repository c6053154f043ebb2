"""The embedded synthetic spectra: PFS-like medium-resolution stellar spectra, fast and exact.

The model, per star with effective temperature T, surface gravity g = log g, metallicity
m = [Fe/H] and magnitude `mag` (independent uniforms over `RANGES` unless told otherwise),
on 4096 pixels spanning 6500–9500 Å at resolving power R = 5000 (Gaussian σ = λ / 2.355 R):

    continuum   c(λ) = B_λ(T) / B_8000(T)   (Planck, 1 at 8000 Å; a Chebyshev series in 1/T, exact to 1e-10)
    pressure    log P_e = p₀ + p_g (g − 4.4) + p_m m + p_T log(T / 5777)
    ionisation  Saha: log N_II/N_I = 2.5 log T − 5040 χ_ion / T − log P_e − 0.18
    line j      A_j = A₀ⱼ · 10^m · f_stage(T, P_e) · 10^(−5040 χ_j / T) / P_e  (relative to a reference star)
                γ_j = γ₀ⱼ · 10^(d (g − 3)) (T / 5000)^0.3      (damping grows with pressure)
                τ_j(λ) = A_j [G_σ(λ − λ_j) + L_γj(λ − λ_j)]     (Gaussian core + Lorentzian wings, γ ≪ σ)
    lines       Hα; Ca II 8498/8542/8662; Na I 8183/8195; K I 7665/7699; Mg I 8807; O I 7774;
                Fe I, Fe II, Ca I, Ti I, Si I lines; a forest of weak Fe-like lines in three
                (stage, excitation) groups; TiO bands (heads 7054, 7589, 8206, 8432, 8859 Å)
                and CaH bands (6750–6950 Å), strength ∝ 10^m · 10^(−(T − 3750)/T₀) · 10^(k (g − 3))
                for cool stars (molecules form more at high pressure)
    flux        F = s · c · (1 − D (1 − e^(−Στ))),  s = 10^(−0.4 (mag − 22))   (D = 0.85: saturated
                cores keep 15 % of the continuum; the flux is in units where a mag-22 star has
                continuum 1 at 8000 Å, so it scales with brightness as observed fluxes do)
    error       σ = √(N C + S) / N,  C = s · c the line-free continuum (as an exposure-time
                calculator computes it), N = N₀ · throughput(λ) counts per unit flux,
                S = sky continuum + OH emission lines + read noise (counts per pixel)

so Teff shapes everything (continuum slope, excitation, molecules), [Fe/H] scales the line
strengths, and log g enters only through pressure: the ionisation balance, the strength of
lines of the dominant ionisation stage (∝ 1/P_e, weaker in dwarfs), the damping wings (wider in
dwarfs) and the molecular bands (stronger in cool dwarfs) — effects of opposite sign whose size
depends on Teff and [Fe/H], so log g is coupled to them nonlinearly, and a linear model also
has to cope with the brightness scale s. Median SNR per spectrum at noise 1 runs from ~6 at
mag 20.5 to ~2 at mag 22.5. The explicit lines' cores and the bands are rows of one template
matmul; the wings are computed only on a window of pixels around each line.

Everything is a pure function of the four parameters (`spectra`), so the Fisher ceiling
(`engine.data.fisher`) differentiates exactly the function that made the data. Parameters are
drawn per global row from a counter-based hash of (seed, row): the first n rows of a set of
n' > n are the set of n, and shards of one set are slices of it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .source import ArraySource

GENERATOR = "engine.data.synth"
#: Bump whenever the model changes: cached synthetic data is keyed by it.
GENERATOR_VERSION = 3

RANGES: dict[str, tuple[float, float]] = {
    "T_eff": (3750.0, 6000.0),
    "log_g": (1.0, 5.0),
    "Fe_H": (-1.0, 0.0),
    "mag": (20.5, 22.5),
}
PARAMS = ("T_eff", "log_g", "Fe_H", "mag")
WAVE_RANGE = (6500.0, 9500.0)
RESOLUTION = 5000.0
N_PIXELS = 4096
BATCH = 128  # spectra per work item (its arrays stay in the L2 cache)

# ---- the physics knobs (a reference star: T = 5000 K, log g = 3, [Fe/H] = -0.5) -------------
T_REF, G_REF, M_REF = 5000.0, 3.0, -0.5
PE0, PE_G, PE_M, PE_T = 1.2, 0.40, 0.2, 6.0  # log P_e model
DAMP_G = 0.50  # γ ∝ 10^(DAMP_G · (g − 3))
DEPTH = 0.85  # the deepest a saturated line goes (fraction of the continuum)
TIO0, TIO_T, TIO_G = -0.15, 450.0, 0.8  # log10 TiO depth at 3750 K, [Fe/H] = 0, log g = 3; T scale; per dex of g
CAH0, CAH_T, CAH_G = -1.0, 300.0, 1.0  # CaH bands: log10 depth at 3750 K, [Fe/H] = 0, log g = 3; T scale; per dex of g
N0 = 20.0  # source counts per pixel at mag 22 for continuum 1 at peak throughput
SKY_CONT = 40.0  # sky continuum counts per pixel (rises to the red)
SKY_LINES = 1.0  # scale of the OH emission
READ_NOISE = 3.0
REF_WAVE = 8000.0  # Å: the magnitude is measured here (the continuum is 10^(-0.4 (mag - 22)) there)

# strong and medium lines: (λ Å, element, stage, ionisation eV, excitation eV, log10 A at reference (Å),
#                           damping γ₀ at reference (Å), window half-width Å)
LINES = [
    (6562.80, "H", 1, 13.60, 3.0, 0.10, 0.30, 40.0),
    (8498.02, "Ca", 2, 6.11, 1.69, 0.30, 0.25, 40.0),
    (8542.09, "Ca", 2, 6.11, 1.69, 0.90, 0.25, 40.0),
    (8662.14, "Ca", 2, 6.11, 1.69, 0.70, 0.25, 40.0),
    (8183.26, "Na", 1, 5.14, 2.10, -0.10, 0.35, 30.0),
    (8194.82, "Na", 1, 5.14, 2.10, 0.15, 0.35, 30.0),
    (7664.90, "K", 1, 4.34, 0.00, -0.10, 0.30, 30.0),
    (7698.96, "K", 1, 4.34, 0.00, -0.40, 0.30, 30.0),
    (8806.76, "Mg", 1, 7.65, 4.35, 0.00, 0.30, 30.0),
    (7774.00, "O", 1, 13.62, 9.15, -0.30, 0.10, 15.0),
    (8327.05, "Fe", 1, 7.90, 2.20, -0.70, 0.15, 15.0),
    (8387.77, "Fe", 1, 7.90, 2.18, -0.55, 0.15, 15.0),
    (8468.41, "Fe", 1, 7.90, 2.22, -0.75, 0.15, 15.0),
    (8514.07, "Fe", 1, 7.90, 2.20, -0.75, 0.15, 15.0),
    (8688.62, "Fe", 1, 7.90, 2.18, -0.45, 0.15, 15.0),
    (8824.22, "Fe", 1, 7.90, 2.20, -0.60, 0.15, 15.0),
    (6678.00, "Fe", 1, 7.90, 2.69, -0.80, 0.10, 12.0),
    (7748.27, "Fe", 1, 7.90, 2.95, -0.90, 0.10, 12.0),
    (8611.80, "Fe", 1, 7.90, 2.85, -0.85, 0.10, 12.0),
    (7511.02, "Fe", 1, 7.90, 4.18, -0.95, 0.10, 12.0),
    (6516.08, "Fe", 2, 7.90, 2.89, -1.00, 0.05, 10.0),
    (7711.72, "Fe", 2, 7.90, 3.90, -1.05, 0.05, 10.0),
    (6717.68, "Ca", 1, 6.11, 2.71, -0.80, 0.10, 12.0),
    (6572.78, "Ca", 1, 6.11, 0.00, -0.90, 0.10, 12.0),
    (8434.96, "Ti", 1, 6.83, 0.84, -0.90, 0.10, 12.0),
    (7405.77, "Si", 1, 8.15, 5.61, -1.00, 0.05, 10.0),
    (7415.95, "Si", 1, 8.15, 5.61, -1.05, 0.05, 10.0),
]
# weak-line forest groups: (stage, ionisation eV, excitation eV, lines, log10 A of the whole group at reference)
FOREST = [(1, 7.90, 1.5, 160, 0.0), (1, 7.90, 4.0, 160, 0.0), (2, 7.90, 3.0, 60, 0.0)]
FOREST_LINE_LOG_A = (-2.6, -1.4)  # each forest line's log10 A at reference, uniform
CAH_BANDS = [(6750.0, 1.0, 60.0), (6830.0, 0.8, 50.0), (6950.0, 0.6, 40.0)]
TIO_BANDS = [(7054.0, 1.0, 160.0), (7589.0, 0.6, 120.0), (8206.0, 0.35, 100.0), (8432.0, 0.5, 140.0), (8859.0, 0.55, 160.0)]

_SEED_MODEL = 20240607  # fixed: the forest, band structure and sky are part of the model
_LN10 = float(np.log(10.0))
_T_MIN, _T_MAX = 2500.0, 12000.0  # the continuum series is exact to 1e-10 over this range
_U_LO, _U_HI = 1.0 / _T_MAX, 1.0 / _T_MIN
_CHEB = 16


def wavelength(n_pixels: int = N_PIXELS) -> np.ndarray:
    """The wavelength grid (Å), uniform over 6500–9500 Å."""
    return np.linspace(*WAVE_RANGE, n_pixels)


# ---------------------------------------------------------------------------------------------
# Parameters: a counter-based draw per (seed, global row)
# ---------------------------------------------------------------------------------------------


def _uniform(seed: int, rows: np.ndarray, stream: int) -> np.ndarray:
    m64 = (1 << 64) - 1
    with np.errstate(over="ignore"):
        z = np.asarray(rows, dtype=np.int64).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z ^= np.uint64(((int(seed) * 0xD1B54A32D192ED03) ^ (stream * 0xA24BAED4963EE407) ^ 0x51A7) & m64)
        for _ in range(2):
            z ^= z >> np.uint64(30)
            z *= np.uint64(0xBF58476D1CE4E5B9)
            z ^= z >> np.uint64(27)
            z *= np.uint64(0x94D049BB133111EB)
            z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def resolve_ranges(ranges: Mapping[str, tuple[float, float]] | None) -> dict[str, tuple[float, float]]:
    out = dict(RANGES)
    for name, bounds in (ranges or {}).items():
        name = "Fe_H" if name == "M_H" else name
        if name not in RANGES:
            raise ValueError(f"unknown generator parameter {name!r}; parameters are {', '.join(RANGES)}")
        lo, hi = (float(b) for b in bounds)
        if not lo <= hi:
            raise ValueError(f"range of {name} must have lo <= hi, got [{lo}, {hi}]")
        if name == "T_eff" and not (_T_MIN <= lo and hi <= _T_MAX):
            raise ValueError(f"the generator covers T_eff in [{_T_MIN:.0f}, {_T_MAX:.0f}] K, got [{lo}, {hi}]")
        out[name] = (lo, hi)
    return out


def draw_params(n: int, *, seed: int, ranges: Mapping | None = None, start: int = 0) -> dict[str, np.ndarray]:
    """Parameters of rows start … start+n-1 (float32 values held as float64)."""
    rows = np.arange(start, start + n, dtype=np.int64)
    out = {}
    for stream, (name, (lo, hi)) in enumerate(resolve_ranges(ranges).items()):
        values = lo + (hi - lo) * _uniform(seed, rows, stream)
        out[name] = values.astype(np.float32).astype(np.float64)
    return out


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


class _Model:
    """Everything about the spectra that does not depend on the star, for one grid and dtype."""

    def __init__(self, n_pixels: int, dtype: np.dtype):
        self.dtype = dt = np.dtype(dtype)
        self.n_pixels = n_pixels
        wave = wavelength(n_pixels)
        self.wave = wave
        step = (WAVE_RANGE[1] - WAVE_RANGE[0]) / max(n_pixels - 1, 1)
        sigma = np.sqrt((wave / (2.3548 * RESOLUTION)) ** 2 + step**2 / 12.0)  # LSF + pixel width
        rng = np.random.default_rng(_SEED_MODEL)

        # continuum D · c(λ, T) as a Chebyshev series in 1/T (relative error < 1e-10): a matmul
        nodes = np.cos(np.pi * (np.arange(64) + 0.5) / 64)
        u = (nodes * (_U_HI - _U_LO) + (_U_HI + _U_LO)) / 2
        exact = DEPTH * _planck(wave, 1.0 / u)
        vander = np.polynomial.chebyshev.chebvander(nodes, _CHEB - 1)
        self.cheb = np.linalg.lstsq(vander, exact, rcond=None)[0].astype(dt)  # (K, pixels)

        # optical-depth templates: weak-line forest groups, TiO bands, the Gaussian core of each line
        templates = []
        for stage, ion, chi, count, _ in FOREST:
            lam = rng.uniform(*WAVE_RANGE, count)
            strength = 10 ** rng.uniform(*FOREST_LINE_LOG_A, count)
            t = np.zeros(n_pixels)
            for l0, a0 in zip(lam, strength):
                t += a0 * _gauss(wave, l0, np.interp(l0, wave, sigma))
            templates.append(t)
        tio = np.zeros(n_pixels)
        for head, depth, decay in TIO_BANDS:
            d = wave - head
            band = np.where(d >= 0, np.exp(-np.clip(d, 0, None) / decay), 0.0)
            ripple = 1 + 0.35 * np.sin(2 * np.pi * d / rng.uniform(6, 11)) * np.exp(-np.clip(d, 0, None) / (2 * decay))
            tio += depth * band * ripple
        templates.append(_smooth(tio, wave, sigma))
        cah = np.zeros(n_pixels)
        for head, depth, decay in CAH_BANDS:
            d = wave - head
            band = np.where(d <= 0, np.exp(np.clip(d, None, 0) / decay), 0.0)  # CaH degrades to the blue
            ripple = 1 + 0.4 * np.sin(2 * np.pi * d / rng.uniform(4, 8))
            cah += depth * band * ripple
        templates.append(_smooth(cah, wave, sigma))
        # explicit lines: the core is a template row, the damping wings are computed on a window
        self.lines, edges = [], []
        for lam, _element, _stage, _ion, _chi, _log_a, _gamma0, half in LINES:
            templates.append(_gauss(wave, lam, np.interp(lam, wave, sigma)))
            p0, p1 = (int(i) for i in np.searchsorted(wave, [lam - half, lam + half]))
            x = wave[p0:p1] - lam
            self.lines.append((p0, p1, (x * x).astype(dt)))
            edges.append(half * half)
        self.neg_templates = -np.array(templates, dtype=dt)  # (groups + 1 + lines, pixels)
        self.edge2 = np.array(edges)
        self.widest = max([p1 - p0 for p0, p1, _ in self.lines] + [1])
        table = np.array([row[2:7] for row in LINES], dtype=np.float64)
        self.stage, self.ion, self.chi, self.log_a, self.gamma0 = table.T
        self.is_metal = np.array([row[1] != "H" for row in LINES])
        forest = np.array([row[:3] + row[4:] for row in FOREST], dtype=np.float64)
        self.f_stage, self.f_ion, self.f_chi, self.f_log_a = forest.T

        # noise model: throughput and sky (counts per pixel)
        throughput = np.exp(-(((wave - 7700.0) / 2300.0) ** 2))
        sky = SKY_CONT * (0.6 + 0.4 * (wave - WAVE_RANGE[0]) / (WAVE_RANGE[1] - WAVE_RANGE[0]))
        for lo, hi, count, strength in [
            (6830, 6990, 10, 0.5), (7240, 7420, 16, 1.0), (7750, 8000, 22, 1.5),
            (8280, 8500, 24, 2.2), (8760, 9050, 26, 3.0), (9300, 9500, 20, 3.5),
        ]:  # fmt: skip
            for l0 in rng.uniform(lo, hi, count):
                amp = SKY_LINES * SKY_CONT * 4 * strength * rng.lognormal(0, 0.8)
                sky += amp * step * _gauss(wave, l0, np.interp(l0, wave, sigma))
        self.counts = (N0 * throughput).astype(dt)
        self.inv_counts = (1.0 / (N0 * throughput)).astype(dt)
        self.background = (sky + READ_NOISE**2).astype(dt)

    # -- star-dependent pieces (float64, shapes (B, 1) against (lines,)) -----------------------
    @staticmethod
    def _log_pe(t, g, m):
        return PE0 + PE_G * (g - 4.4) + PE_M * m + PE_T * np.log10(t / 5777.0)

    @staticmethod
    def _log_stage(t, log_pe, stage, ion):
        """log10 of the fraction of the element in `stage` (1 neutral, 2 ionised), by Saha."""
        log_ratio = 2.5 * np.log10(t) - 5040.0 * ion / t - log_pe - 0.18  # log N_II / N_I
        log_total = np.logaddexp(0.0, log_ratio * _LN10) / _LN10  # log10(1 + N_II/N_I)
        return np.where(stage == 1, 0.0, log_ratio) - log_total

    def _log_strength(self, t, g, m, stage, ion, chi, metal):
        log_pe = self._log_pe(t, g, m)
        return np.where(metal, m, 0.0) + self._log_stage(t, log_pe, stage, ion) - 5040.0 * chi / t - log_pe

    def strengths(self, t, g, m):
        """Line strengths A (B, lines), damping widths γ (B, lines), template amplitudes (B, templates)."""
        t, g, m = (np.asarray(v, dtype=np.float64)[:, None] for v in (t, g, m))
        ref = [np.array([[v]]) for v in (T_REF, G_REF, M_REF)]
        args = (self.stage, self.ion, self.chi, self.is_metal)
        log_a = self.log_a + self._log_strength(t, g, m, *args) - self._log_strength(*ref, *args)
        gamma = self.gamma0 * np.exp(_LN10 * DAMP_G * (g - G_REF)) * (t / T_REF) ** 0.3
        fargs = (self.f_stage, self.f_ion, self.f_chi, True)
        log_f = self.f_log_a + self._log_strength(t, g, m, *fargs) - self._log_strength(*ref, *fargs)
        log_tio = TIO0 + m - (t - 3750.0) / TIO_T + TIO_G * (g - G_REF)
        log_cah = CAH0 + m - (t - 3750.0) / CAH_T + CAH_G * (g - G_REF)
        a_line = np.exp(_LN10 * log_a)
        amps = np.exp(_LN10 * np.concatenate([log_f, log_tio, log_cah, log_a], axis=1))
        return a_line, gamma, amps

    def continuum_basis(self, t, scale):
        """(B, K) Chebyshev weights: basis @ self.cheb = scale · D · c(λ, T)."""
        u = 1.0 / np.asarray(t, dtype=np.float64)
        x = (2 * u - (_U_HI + _U_LO)) / (_U_HI - _U_LO)
        return np.polynomial.chebyshev.chebvander(x, _CHEB - 1) * np.asarray(scale, dtype=np.float64)[:, None]

    def flux_error(self, t, g, m, mag, *, with_error=True):
        dt = self.dtype
        t64 = np.asarray(t, dtype=np.float64)
        a_line, gamma, amps = self.strengths(t64, g, m)
        # -τ: the templates (forest, TiO, line cores), then each line's damping wings on its window
        neg_tau = amps.astype(dt) @ self.neg_templates
        coef = a_line * gamma / np.pi
        g2 = gamma * gamma
        edge = coef / (self.edge2 + g2)  # the Lorentzian's value at the window edge: wings end at 0
        coef, g2, edge = (v.astype(dt) for v in (coef, g2, edge))
        scratch = np.empty(len(t64) * self.widest, dtype=dt)
        for j, (p0, p1, x2) in enumerate(self.lines):
            buf = scratch[: len(t64) * (p1 - p0)].reshape(len(t64), p1 - p0)  # contiguous: 5× faster
            np.add(x2, g2[:, j : j + 1], out=buf)
            np.divide(coef[:, j : j + 1], buf, out=buf)
            buf -= edge[:, j : j + 1]
            view = neg_tau[:, p0:p1]
            view -= buf
        # flux = s · D · c(λ, T) · (e^−τ + (1 − D) / D)
        flux = np.exp(neg_tau, out=neg_tau)
        flux += dt.type((1 - DEPTH) / DEPTH)
        scale = np.exp(-0.4 * _LN10 * (np.asarray(mag, dtype=np.float64) - 22.0))
        continuum = self.continuum_basis(t64, scale).astype(dt) @ self.cheb  # s · D · c(λ, T)
        flux *= continuum
        if not with_error:
            return flux, None
        # σ = √(N C + S) / N with C the star's continuum s · c (= continuum / D): the noise model
        # of an exposure-time calculator, which takes the source term from the smooth SED, so the
        # error vector tells how bright and how hot the star is, not its line strengths.
        error = np.multiply(continuum, self.counts * dt.type(1.0 / DEPTH))
        error += self.background
        np.sqrt(error, out=error)
        error *= self.inv_counts
        return flux, error


def _planck(wave: np.ndarray, t: np.ndarray) -> np.ndarray:
    """B_λ(T) / B_8000(T), rows per temperature."""
    t = np.asarray(t, dtype=np.float64)[:, None]
    ref = REF_WAVE
    return (wave / ref) ** -5 * np.expm1(1.4388e8 / (ref * t)) / np.expm1(1.4388e8 / (wave * t))


def _gauss(wave: np.ndarray, center: float, sigma: float) -> np.ndarray:
    """A unit-area Gaussian on the grid, exactly 0 beyond 7σ (no denormal floats downstream)."""
    out = np.zeros_like(wave)
    lo, hi = np.searchsorted(wave, [center - 7 * sigma, center + 7 * sigma])
    out[lo:hi] = np.exp(-0.5 * ((wave[lo:hi] - center) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    return out


def _smooth(values: np.ndarray, wave: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Convolve with the (locally constant) line-spread function."""
    step = wave[1] - wave[0]
    s = float(np.median(sigma)) / step
    half = int(np.ceil(5 * s))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / s) ** 2)
    return np.convolve(values, kernel / kernel.sum(), mode="same")


@functools.lru_cache(maxsize=8)
def model(n_pixels: int = N_PIXELS, dtype: str = "float32") -> _Model:
    return _Model(n_pixels, np.dtype(dtype))


def spectra(
    params: Mapping[str, np.ndarray], *, n_pixels: int = N_PIXELS, dtype=np.float32, with_error: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Noise-free flux and per-pixel error (rows × pixels) for the given parameters: the model.

    `params` holds T_eff, log_g, Fe_H (or M_H) and mag arrays. Single-threaded; `generate`
    spreads batches over the cores.
    """
    m = model(n_pixels, np.dtype(dtype).name)
    feh = params["Fe_H"] if "Fe_H" in params else params["M_H"]
    return m.flux_error(params["T_eff"], params["log_g"], feh, params["mag"], with_error=with_error)


def snr_of(flux: np.ndarray, error: np.ndarray) -> np.ndarray:
    """median(|flux| / error) per row: one partition and a max (np.median is several times slower)."""
    ratio = np.abs(flux) / error
    p = ratio.shape[1]
    part = np.partition(ratio, p // 2, axis=1)
    upper = part[:, p // 2].astype(np.float64)
    if p % 2:
        return upper
    return 0.5 * (part[:, : p // 2].max(axis=1) + upper)


def _fill(out_flux, out_error, out_snr, params, start, stop, n_pixels):
    piece = {k: v[start:stop] for k, v in params.items()}
    flux, error = spectra(piece, n_pixels=n_pixels)
    out_flux[start:stop] = flux
    out_error[start:stop] = error
    out_snr[start:stop] = snr_of(flux, error)


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _run(n, params, flux, error, snr, n_pixels, workers=None):
    try:
        from threadpoolctl import threadpool_limits  # comes with scikit-learn
    except ImportError:  # pragma: no cover
        threadpool_limits = None

    spans = [(s, min(s + BATCH, n)) for s in range(0, n, BATCH)]
    workers = workers or _threads()
    limit = threadpool_limits(1, user_api="blas") if threadpool_limits else contextlib.nullcontext()
    with limit:  # the batches are the parallelism; BLAS threads would only contend
        if workers == 1 or len(spans) == 1:
            for s, e in spans:
                _fill(flux, error, snr, params, s, e, n_pixels)
            return
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda span: _fill(flux, error, snr, params, *span, n_pixels), spans))


def generate(n: int, *, seed: int = 0, ranges: Mapping | None = None, n_pixels: int = N_PIXELS, start: int = 0) -> ArraySource:
    """n synthetic spectra in memory (rows start … start+n-1 of the set for `seed`)."""
    params = draw_params(n, seed=seed, ranges=ranges, start=start)
    flux = np.empty((n, n_pixels), dtype=np.float32)
    error = np.empty((n, n_pixels), dtype=np.float32)
    snr = np.empty(n, dtype=np.float64)
    _run(n, params, flux, error, snr, n_pixels)
    return ArraySource(flux, error, {**params, "snr": snr}, wave=wavelength(n_pixels))


def write_shards(
    out_dir: str | Path,
    n: int,
    shards: int = 1,
    seed: int = 0,
    *,
    ranges: Mapping | None = None,
    n_pixels: int = N_PIXELS,
    start: int = 0,
    block: int = 8192,
) -> list[Path]:
    """Write n spectra as `shards` HDF5 files `out_dir/shard_{k}/dataset.h5` (k = 0 … shards-1).

    Each file holds `flux`, `error` (rows × pixels float32), `wave` (pixels float64) and the
    columns `T_eff`, `log_g`, `Fe_H`, `mag`, `snr` (float32), plus attributes naming the
    generator, its version, the seed, the ranges and the shard's first global row (rows are
    `start` … `start + n - 1` of the seed's stream); read them back with the pattern
    `out_dir/shard_{0..K-1}/dataset.h5`. Memory stays bounded by `block`.
    """
    import h5py

    from ..errors import DataError

    if shards < 1 or n < shards:
        raise DataError(f"cannot write {n} spectra into {shards} shards (need n >= shards >= 1)")
    out_dir = Path(out_dir)
    bounds = np.linspace(0, n, shards + 1).astype(np.int64)
    resolved = resolve_ranges(ranges)
    paths = []
    for k in range(shards):
        first, last = int(bounds[k]), int(bounds[k + 1])
        rows = last - first
        path = out_dir / f"shard_{k}" / "dataset.h5"
        path.parent.mkdir(parents=True, exist_ok=True)
        with h5py.File(path, "w") as f:
            f.attrs.update(
                generator=GENERATOR, generator_version=GENERATOR_VERSION, seed=seed, first_row=start + first,
                ranges=json.dumps(resolved), n_pixels=n_pixels,
            )  # fmt: skip
            dflux = f.create_dataset("flux", (rows, n_pixels), dtype="f4")
            derr = f.create_dataset("error", (rows, n_pixels), dtype="f4")
            f.create_dataset("wave", data=wavelength(n_pixels))
            cols = {name: f.create_dataset(name, (rows,), dtype="f4") for name in (*PARAMS, "snr")}
            for s in range(0, rows, block):
                part = generate(min(block, rows - s), seed=seed, ranges=ranges, n_pixels=n_pixels, start=start + first + s)
                dflux[s : s + part.n] = part.flux
                derr[s : s + part.n] = part.error
                for name, ds in cols.items():
                    ds[s : s + part.n] = part.param(name)
        paths.append(path)
    return paths
