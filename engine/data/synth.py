"""The embedded synthetic spectra: PFS-like medium-resolution stellar spectra, fast and exact.

The model, per star with effective temperature T, surface gravity g = log g, metallicity
m = [Fe/H] and magnitude `mag` (independent uniforms over `RANGES` unless told otherwise),
on 4096 pixels spanning 6500–9500 Å at resolving power R = 5000 (Gaussian σ = λ / 2.355 R):

    continuum   c(λ) = B_λ(T) / B_8000(T)   (Planck, 1 at 8000 Å; a Chebyshev series in 1/T, exact to 1e-10)
    pressure    log P_e = p₀ + p_g (g − 4.4) + p_m m + p_T log(T / 5777)
    ionisation  Saha: log N_II/N_I = 2.5 log T − 5040 χ_ion / T − log P_e − 0.18
    line j      A_j = A₀ⱼ · 10^m · f_stage(T, P_e) · 10^(−5040 χ_j / T) / P_e  (relative to a reference star)
                γ_j = γ₀ⱼ · 10^(d (g − 3)) (T / 5000)^0.3      (damping grows with pressure)
                b_j = λ_j / c · √(2kT / m_j + ξ²),  ξ = 1.5 − 0.3 (g − 3) km/s  (the Doppler width:
                thermal and microturbulent; giants' atmospheres churn more, so ξ falls with g)
                W_D(A, b) = 2b √ln(1 + (A / 2b)²)  (the curve of growth of a Doppler core: it
                saturates at its intrinsic width b ≈ 0.05 Å, far inside the LSF; W = A while weak)
                τ_j(λ) = W_D(A_j, b_j) G_σ(λ − λ_j) + A_j L_γj(λ − λ_j)  (the saturated core through
                the LSF, and Lorentzian wings, which saturate through e^−τ: the damping part)
    lines       Hα; Ca II 8498/8542/8662; Na I 8183/8195; K I 7665/7699; Mg I 8807; O I 7774;
                Fe I, Fe II, Ca I, Ti I, Si I lines; a forest of weak Fe-like lines in three
                (stage, excitation) groups, each line at its point on the Voigt curve of growth
                (W² = W_D² + W_L² − (W_D W_L / A)², W_L = A / √(1 + A / 4γ), Rodgers & Williams;
                three strength bins per group share a point); TiO bands (heads 7054, 7589,
                8206, 8432, 8859 Å) and CaH bands (6750–6950 Å), strength
                ∝ 10^m · 10^(−(T − 3750)/T₀) · 10^(k (g − 3)) for cool stars (molecules form
                more at high pressure)
    flux        F = s · c · (1 − D (1 − e^(−Στ))),  s = 10^(−0.4 (mag − 22))   (D = 0.85: saturated
                cores keep 15 % of the continuum; the flux is in units where a mag-22 star has
                continuum 1 at 8000 Å, so it scales with brightness as observed fluxes do)
    error       σ = √(N F + S) / N,  the photon noise of the flux F itself (lines and all, so the
                absorption lines show in the error array, as in a pipeline's variance array),
                N = N₀ · throughput(λ) counts per unit flux, S = sky continuum + OH emission
                lines + read noise (counts per pixel)

so Teff shapes everything (continuum slope, excitation, molecules), [Fe/H] scales the line
strengths, and log g enters through pressure and turbulence: the ionisation balance, the
strength of lines of the dominant ionisation stage (∝ 1/P_e, weaker in dwarfs), the Doppler
width of saturated lines (ξ: narrower in dwarfs), the damping wings (wider in dwarfs) and the
molecular bands (stronger in cool dwarfs) — effects of opposite sign whose size depends on where
each line sits on its curve of growth, so on Teff and [Fe/H]: log g is coupled to them
nonlinearly, and a linear model also has to cope with the brightness scale s. The S/N of a
spectrum (the `snr` column, as `research data info` reports it: the median over pixels of
|flux| / error, at noise 1) runs from ~11 at mag 19.5 to ~1.5 at mag 22.7, so each of the S/N bins > 7,
4–7, 2–4 and ≤ 2 holds a fifth or more of the spectra; and as the error follows the flux, the
error array alone tells log g (a Ridge on it reaches R² ≈ 0.95): the shortcut a real error array
offers, for a baseline to catch. The optical depth is summed pixel by pixel: the dense templates
(forest bins, TiO, CaH) over the span where each is nonzero, then each explicit line's Gaussian
core (exactly 0 beyond 7σ) and damping wings on a window of pixels around it. The continuum's
16-term series is compressed to 8 basis spectra in float32 (12 in float64; relative error 1e-10,
2e-15) by pivoted Gram–Schmidt, as the continuum is smooth in λ too.

Everything is a pure function of the four parameters (`spectra`), so the Fisher ceiling
(`engine.data.fisher`) differentiates exactly the function that made the data (in float64; the
float32 data are that function to within float32 rounding).

Determinism. Parameters are drawn per global row from a counter-based hash of (seed, row), and
each row of flux and error is computed from its own parameters by elementwise numpy operations
in a fixed order per pixel: no BLAS (matmul, dot, einsum, np.convolve), no LAPACK, no sum along
the row axis. So a row's bits are a function of (seed, global row index) alone — by construction,
whatever n, `start`, the batch it falls in, `write_shards`' shard count and block, or the number
of threads: the first n rows of a set of n' > n are the set of n, and shards of one set are
slices of it. The per-spectrum path also avoids numpy's transcendental ufuncs (np.exp, np.log,
np.power, np.logaddexp take AVX2 / AVX512 / SVML paths that differ in the last bit between CPUs):
exp and log come from `engine.data.detmath`, built from operations IEEE 754 rounds exactly
(+ − × ÷ √, comparisons, integer and bit operations), so the same numpy gives the same bits on
any machine. The star-independent constants (templates, the continuum series — fitted in
closed form at Chebyshev nodes — its basis, sky, throughput) are computed once in float64 with
the same helpers and fixed-order or correctly rounded (math.fsum) sums, and rounded to float32.
The one documented residual: a few constants still pass through the C library or the compiler
— the cosines of the 64 Chebyshev nodes, the sines of the TiO and CaH ripples, and numpy's
random draws for the forest and sky lines (its normal sampler uses exp/log in rare branches, and
a compiler may fuse its multiply-adds on some CPUs) — and a 1-ulp difference in a float64 value
there flips the float32 constant made from it with probability ~1e-9 per value.
"""

from __future__ import annotations

import functools
import json
import math
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple, cast

import numpy as np

from .detmath import INV_LN10, LN10, exp32, exp64, log1p_64, log64, log_1p_exp64, pow10_64
from .source import ArraySource
from .synth_space import GENERATOR_VERSION, N_PIXELS, PARAMS, RANGES, T_COVERED, resolve_ranges  # noqa: F401 (re-exported)
from .threads import available as _threads

GENERATOR = "engine.data.synth"
# GENERATOR_VERSION (in synth_space, beside the ranges): bump it whenever this model changes.
WAVE_RANGE = (6500.0, 9500.0)
RESOLUTION = 5000.0
BATCH = 512  # spectra per work item (and per numpy call on the star's scalars and the lines' windows)
TILE = 128  # spectra per pass over full rows (2 MB per float32 array: the passes stay in cache)

# ---- the physics knobs (a reference star: T = 5000 K, log g = 3, [Fe/H] = -0.5) -------------
T_REF, G_REF, M_REF = 5000.0, 3.0, -0.5
PE0, PE_G, PE_M, PE_T = 1.2, 0.40, 0.2, 6.0  # log P_e model
DAMP_G = 0.50  # γ ∝ 10^(DAMP_G · (g − 3))
XI0, XI_G = 1.5, -0.3  # microturbulence (km/s) at log g = 3, and its change per dex of g (giants churn more)
FOREST_GAMMA0 = 0.03  # Å: a forest line's van der Waals damping width at the reference star
FOREST_BINS = 3  # strength bins per forest group: lines of one bin share a point on the curve of growth
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
MASS = {"H": 1.008, "O": 16.0, "Na": 23.0, "Mg": 24.3, "Si": 28.1, "K": 39.1, "Ca": 40.1, "Ti": 47.9, "Fe": 55.8}
_THERMAL = 2 * 1.380649e-23 / 1.66054e-27 / 1e6  # 2k/m_u in (km/s)² per K: b_thermal² = _THERMAL · T / mass
_C_KMS = 299792.458
CAH_BANDS = [(6750.0, 1.0, 60.0), (6830.0, 0.8, 50.0), (6950.0, 0.6, 40.0)]
TIO_BANDS = [
    (7054.0, 1.0, 160.0),
    (7589.0, 0.6, 120.0),
    (8206.0, 0.35, 100.0),
    (8432.0, 0.5, 140.0),
    (8859.0, 0.55, 160.0),
]

_SEED_MODEL = 20240607  # fixed: the forest, band structure and sky are part of the model
_T_MIN, _T_MAX = T_COVERED  # the continuum series is exact to 1e-10 over this range
_U_LO, _U_HI = 1.0 / _T_MAX, 1.0 / _T_MIN
_CHEB = 16  # Chebyshev terms in 1/T of the continuum
_RANK = {"float32": 8, "float64": 12}  # basis spectra the series is compressed to (relative error 1e-10, 2e-15)


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
    """Everything about the spectra that does not depend on the star, for one grid and dtype.

    The constants are computed once in float64 (with `detmath`'s exp, fixed-order sums, no
    BLAS or LAPACK) and rounded to the model's dtype.
    """

    def __init__(self, n_pixels: int, dtype: np.dtype):
        self.dtype = dt = np.dtype(dtype)
        self.n_pixels = n_pixels
        wave = wavelength(n_pixels)
        self.wave = wave
        step = (WAVE_RANGE[1] - WAVE_RANGE[0]) / max(n_pixels - 1, 1)
        sigma = np.sqrt((wave / (2.3548 * RESOLUTION)) ** 2 + step**2 / 12.0)  # LSF + pixel width
        rng = np.random.default_rng(_SEED_MODEL)

        # continuum D · c(λ, T): a Chebyshev series in 1/T (relative error < 1e-10), compressed to
        # a few basis spectra: D · c(λ, T) = Σ_r w_r(T) basis_r(λ), w_r = Σ_k T_k(x(T)) mix_kr
        series, floor = _continuum_series(wave)
        self.mix, basis = _compress(series, floor, _RANK[dt.name])  # (K, rank), (rank, pixels)
        self.basis = basis.astype(dt)

        # dense optical-depth templates: the weak-line forest groups, TiO bands, CaH bands
        dense = []
        # each forest group in FOREST_BINS templates by line strength; a bin's template is the sum of
        # its lines at their reference strengths, scaled per star by where the bin's middle strength
        # sits on the curve of growth
        lo_a, hi_a = FOREST_LINE_LOG_A
        width = (hi_a - lo_a) / FOREST_BINS
        self.forest_a = pow10_64(np.array([lo_a + (k + 0.5) * width for k in range(FOREST_BINS)]))
        for _stage, _ion, _chi, count, _ in FOREST:
            centers = rng.uniform(*WAVE_RANGE, count)
            log_amp = rng.uniform(*FOREST_LINE_LOG_A, count)
            amplitudes = pow10_64(log_amp)
            which = np.minimum(((log_amp - lo_a) / width).astype(np.int64), FOREST_BINS - 1)
            for k in range(FOREST_BINS):
                t = np.zeros(n_pixels)
                for l0, a0 in zip(centers[which == k], amplitudes[which == k]):
                    t += a0 * _gauss(wave, l0, _interp(l0, wave, sigma))
                dense.append(t)
        tio = np.zeros(n_pixels)
        for head, depth, decay in TIO_BANDS:
            d = wave - head
            band = np.where(d >= 0, exp64(-np.clip(d, 0, None) / decay), 0.0)
            ripple = 1 + 0.35 * np.sin(2 * np.pi * d / rng.uniform(6, 11)) * exp64(-np.clip(d, 0, None) / (2 * decay))
            tio += depth * band * ripple
        dense.append(_smooth(tio, wave, sigma))
        cah = np.zeros(n_pixels)
        for head, depth, decay in CAH_BANDS:
            d = wave - head
            band = np.where(d <= 0, exp64(np.clip(d, None, 0) / decay), 0.0)  # CaH degrades to the blue
            ripple = 1 + 0.4 * np.sin(2 * np.pi * d / rng.uniform(4, 8))
            cah += depth * band * ripple
        dense.append(_smooth(cah, wave, sigma))
        self.dense = [_Template(-row.astype(dt), *_support(row)) for row in dense]  # −template, nonzero span

        # explicit lines: a Gaussian core (exactly 0 beyond 7σ) and damping wings on a window
        self.lines, edges = [], []
        for lam, _element, _stage, _ion, _chi, _log_a, _gamma0, half in LINES:
            core = _gauss(wave, lam, _interp(lam, wave, sigma))
            c0, c1 = _support(core)
            p0, p1 = (int(i) for i in np.searchsorted(wave, [lam - half, lam + half]))
            x = wave[p0:p1] - lam
            self.lines.append(_Line(p0, p1, (x * x).astype(dt), c0, c1, core[c0:c1].astype(dt)))
            edges.append(half * half)
        self.edge2 = np.array(edges)
        self.widest = max([max(ln.p1 - ln.p0, ln.c1 - ln.c0) for ln in self.lines] + [1])
        self.gamma0 = np.array([row[6] for row in LINES])
        # Doppler widths: b_λ = λ_j / c · √(b_thermal² + ξ²), the lines' λ_j / c and thermal part per K
        self.lam_over_c = np.array([row[0] for row in LINES]) / _C_KMS
        self.thermal = _THERMAL / np.array([MASS[row[1]] for row in LINES])
        self.forest_thermal = _THERMAL / MASS["Fe"]
        # the species whose strengths follow Saha and Boltzmann: the lines, then the forest groups
        self.species = _Species(
            stage=np.array([row[2] for row in LINES] + [row[0] for row in FOREST], dtype=np.float64),
            ion=np.array([row[3] for row in LINES] + [row[1] for row in FOREST]),
            chi=np.array([row[4] for row in LINES] + [row[2] for row in FOREST]),
            log_a=np.array([row[5] for row in LINES] + [row[4] for row in FOREST]),
            metal=np.array([row[1] != "H" for row in LINES] + [True for _ in FOREST]),
        )
        t_ref, g_ref, m_ref = (np.array([[v]]) for v in (T_REF, G_REF, M_REF))
        self.ref_log_strength = self._log_strength(t_ref, g_ref, m_ref, self._logs(t_ref))

        # noise model: throughput and sky (counts per pixel)
        throughput = exp64(-(((wave - 7700.0) / 2300.0) ** 2))
        sky = SKY_CONT * (0.6 + 0.4 * (wave - WAVE_RANGE[0]) / (WAVE_RANGE[1] - WAVE_RANGE[0]))
        for lo, hi, count, strength in [
            (6830, 6990, 10, 0.5),
            (7240, 7420, 16, 1.0),
            (7750, 8000, 22, 1.5),
            (8280, 8500, 24, 2.2),
            (8760, 9050, 26, 3.0),
            (9300, 9500, 20, 3.5),
        ]:
            for l0 in rng.uniform(lo, hi, count):
                lognormal = exp64(rng.normal(0, 0.8))  # = rng.lognormal(0, 0.8), the same draw
                amp = SKY_LINES * SKY_CONT * 4 * strength * lognormal
                sky += amp * step * _gauss(wave, l0, _interp(l0, wave, sigma))
        counts = (N0 * throughput).astype(dt)
        self.counts = counts
        self.inv_counts = (1.0 / (N0 * throughput)).astype(dt)
        self.background = (sky + READ_NOISE**2).astype(dt)

    # -- star-dependent scalars (float64, shapes (B, 1) against (species,)) --------------------
    @staticmethod
    def _logs(t):
        """(log10(T / 5777), log10 T, ln(T / T_REF)) for (B, 1) temperatures, in one log call."""
        ln = log64(np.concatenate([t / 5777.0, t, t / T_REF], axis=1))
        return ln[:, :1] * INV_LN10, ln[:, 1:2] * INV_LN10, ln[:, 2:]

    def _log_strength(self, t, g, m, logs):
        """log10 of each species' strength (B, lines + forest groups), up to its constant A₀."""
        sp = self.species
        log_t5777, log_t, _ = logs
        log_pe = PE0 + PE_G * (g - 4.4) + PE_M * m + PE_T * log_t5777
        # Saha: log N_II / N_I, and log10 of the fraction in the species' stage
        log_ratio = 2.5 * log_t - 5040.0 * sp.ion / t - log_pe - 0.18
        log_total = log_1p_exp64(log_ratio * LN10) * INV_LN10  # log10(1 + N_II/N_I)
        log_stage = np.where(sp.stage == 1, 0.0, log_ratio) - log_total
        return np.where(sp.metal, m, 0.0) + log_stage - 5040.0 * sp.chi / t - log_pe

    def strengths(self, t, g, m):
        """Line strengths A (B, lines), their Doppler cores' equivalent widths W (B, lines), damping
        widths γ (B, lines), dense-template amplitudes (B, forest groups × bins + 2).

        A line saturates at its intrinsic width, well inside the LSF: the equivalent width follows
        the curve of growth — A while weak, 2b√ln(A / 2b) once the Doppler core is black, √(Aγ)-like
        once the damping wings take over — before the LSF spreads it. The Doppler width b holds
        the microturbulence ξ, which falls with gravity, so a saturated line answers log g with a
        sign that a weak one (through P_e) or a damped one (through γ) need not share.
        """
        t, g, m = (np.asarray(v, dtype=np.float64)[:, None] for v in (t, g, m))
        logs = self._logs(t)
        log_a = self.species.log_a + self._log_strength(t, g, m, logs) - self.ref_log_strength
        log_tio = TIO0 + m - (t - 3750.0) / TIO_T + TIO_G * (g - G_REF)
        log_cah = CAH0 + m - (t - 3750.0) / CAH_T + CAH_G * (g - G_REF)
        # one exp call: 10^(log A) of the lines, forest groups, TiO, CaH; then 10^(d (g − 3)), (T / T_REF)^0.3
        powers = [log_a * LN10, log_tio * LN10, log_cah * LN10, DAMP_G * (g - G_REF) * LN10, 0.3 * logs[2]]
        e = exp64(np.concatenate(powers, axis=1))
        n_lines, n_groups = len(self.lines), len(FOREST)
        damping = e[:, -2:-1] * e[:, -1:]
        a_line, groups = e[:, :n_lines], e[:, n_lines : n_lines + n_groups]
        xi = XI0 + XI_G * (g - G_REF)
        xi2 = xi * xi
        core = _doppler_cog(a_line, self.lam_over_c * np.sqrt(self.thermal * t + xi2))
        b_forest = (REF_WAVE / _C_KMS) * np.sqrt(self.forest_thermal * t + xi2)
        gamma_forest = FOREST_GAMMA0 * damping
        amps = [
            _voigt_cog(groups[:, j : j + 1] * a, b_forest, gamma_forest) / a
            for j in range(n_groups)
            for a in self.forest_a
        ]
        amps.append(e[:, n_lines + n_groups : -2])  # TiO, CaH
        return a_line, core, self.gamma0 * damping, np.concatenate(amps, axis=1)

    def continuum_weights(self, t, scale):
        """(B, rank) weights with Σ_r weights[:, r] · self.basis[r] = scale · D · c(λ, T) (float64)."""
        u = 1.0 / np.asarray(t, dtype=np.float64)
        x = (2 * u - (_U_HI + _U_LO)) / (_U_HI - _U_LO)
        cheb = _chebyshev_table(x)  # T_k(x), (B, K)
        out = cheb[:, :1] * self.mix[0]
        for k in range(1, _CHEB):  # a fixed order (no matmul)
            out += cheb[:, k : k + 1] * self.mix[k]
        return out * np.asarray(scale, dtype=np.float64)[:, None]

    # -- the spectra: elementwise, in a fixed order per pixel ----------------------------------
    # Each pixel of each row gets the same sequence of roundings whatever the number of rows, the
    # block or the tile: no matmul, no reduction, nothing that mixes rows.
    def _dense_tau(self, out, amps, scratch):
        """−τ of the dense templates, in order, into `out` (rows, pixels); `amps` in the model's dtype."""
        rows = out.shape[0]
        np.multiply(amps[:, :1], self.dense[0].neg, out=out)  # the whole row: initialises every pixel
        for j, tpl in enumerate(self.dense[1:], start=1):
            # only the span holding its nonzero values: adding zeros would change no bit. (Finer
            # spans around the forest's lines are slower: numpy pays ~30 ns per row and call.)
            part = _rows(scratch, rows, tpl.hi - tpl.lo)
            np.multiply(amps[:, j : j + 1], tpl.neg[tpl.lo : tpl.hi], out=part)
            out[:, tpl.lo : tpl.hi] += part
        return out

    def _line_tau(self, out, a_line, a_core, gamma, scratch):
        """Subtract each explicit line's damping wings (strength A) and Gaussian core (its
        saturated Doppler core's equivalent width) from −τ in `out`."""
        dt, rows = self.dtype, out.shape[0]
        coef = a_line * gamma / np.pi
        g2 = gamma * gamma
        edge = coef / (self.edge2 + g2)  # the Lorentzian's value at the window edge: wings end at 0
        coef, g2, edge, a_core = (v.astype(dt) for v in (coef, g2, edge, a_core))
        for j, line in enumerate(self.lines):
            if line.p1 > line.p0:  # damping wings coef / (x² + γ²) − edge
                buf = _rows(scratch, rows, line.p1 - line.p0)
                np.add(line.x2, g2[:, j : j + 1], out=buf)
                np.divide(coef[:, j : j + 1], buf, out=buf)
                buf -= edge[:, j : j + 1]
                out[:, line.p0 : line.p1] -= buf
            if line.c1 > line.c0:  # Gaussian core A · G(λ − λ_j)
                buf = _rows(scratch, rows, line.c1 - line.c0)
                np.multiply(a_core[:, j : j + 1], line.core, out=buf)
                out[:, line.c0 : line.c1] -= buf
        return out

    def _continuum(self, weights, out, tmp):
        """scale · D · c(λ, T) into `out`: the basis spectra summed one by one, smallest first."""
        last = weights.shape[1] - 1
        np.multiply(weights[:, last:], self.basis[last], out=out)
        for r in range(last - 1, -1, -1):
            np.multiply(weights[:, r : r + 1], self.basis[r], out=tmp)
            out += tmp
        return out

    def flux_error(self, t, g, m, mag, *, with_error=True, out=None):
        """Flux and error (rows, pixels) in the model's dtype; `out` = (flux, error) arrays to fill.

        The star's scalars and the lines' windows are done for all rows at once (few numpy calls
        per row: threads contend for the GIL in each call), the passes over full rows tile by tile.
        """
        dt = self.dtype
        t64 = np.asarray(t, dtype=np.float64)
        rows, shape = len(t64), (len(t64), self.n_pixels)
        a_line, a_core, gamma, amps = self.strengths(t64, g, m)
        scale = pow10_64(-0.4 * (np.asarray(mag, dtype=np.float64) - 22.0))
        weights = self.continuum_weights(t64, scale).astype(dt)
        amps = amps.astype(dt)
        if out is None:
            out = (np.empty(shape, dt), np.empty(shape, dt) if with_error else None)
        flux, error = out
        tiles = [(s, min(s + TILE, rows)) for s in range(0, rows, TILE)]
        for s, e in tiles:
            self._dense_tau(flux[s:e], amps[s:e], _work(e - s, self.n_pixels, dt)[0].reshape(-1))
        self._line_tau(flux, a_line, a_core, gamma, _scratch("lines", rows * self.widest, dt))
        for s, e in tiles:
            work = _work(e - s, self.n_pixels, dt)
            self._finish(flux[s:e], None if error is None else error[s:e], weights[s:e], work)
        return flux, error

    def _finish(self, flux, error, weights, work):
        """flux ← s · D · c(λ, T) · (e^−τ + (1 − D) / D) from −τ in `flux`; error from the continuum."""
        dt = self.dtype
        _exp_inplace(flux, work)
        flux += dt.type((1 - DEPTH) / DEPTH)
        continuum = self._continuum(weights, work[0], work[1])  # s · D · c(λ, T)
        flux *= continuum
        if error is None:
            return
        # σ = √(N F + S) / N with F the star's flux, lines and all: photon noise counts the
        # photons that arrive, so absorption lines show in the error array, as in a pipeline's
        # variance array, and the error alone says something about the star (a shortcut a model
        # can take: the error-only baseline measures it).
        np.multiply(flux, self.counts, out=error)
        error += self.background
        np.sqrt(error, out=error)
        error *= self.inv_counts


class _Species(NamedTuple):
    stage: np.ndarray  # 1 neutral, 2 ionised
    ion: np.ndarray  # ionisation energy (eV)
    chi: np.ndarray  # excitation energy (eV)
    log_a: np.ndarray  # log10 strength at the reference star
    metal: np.ndarray  # scales with [Fe/H]


class _Template(NamedTuple):
    neg: np.ndarray  # −template over all pixels
    lo: int  # the span [lo, hi) outside which it is exactly 0
    hi: int


class _Line(NamedTuple):
    p0: int  # the wings' window [p0, p1)
    p1: int
    x2: np.ndarray  # (λ − λ_j)² on the window
    c0: int  # the core's nonzero span [c0, c1)
    c1: int
    core: np.ndarray  # the unit-area Gaussian on that span


_local = threading.local()


def _scratch(name: str, size: int, dtype) -> np.ndarray:
    """A flat scratch array of at least `size` elements, per thread and reused between calls:
    fresh multi-MB arrays cost page faults that would take a third of the generator's time."""
    dt = np.dtype(dtype)
    cache = _local.__dict__.setdefault("arrays", {})
    have = cache.get((name, dt.str))
    if have is None or have.size < size:
        have = cache[(name, dt.str)] = np.empty(max(size, 1), dt)
    return have[:size]


_Work = tuple[np.ndarray, np.ndarray, np.ndarray]  # three arrays, one per entry of `kinds` in `_work`


def _work(rows: int, n_pixels: int, dtype) -> _Work:
    """Scratch arrays (float, float, uint of the float's width) of shape (rows, n_pixels) ≤ one tile."""
    dt = np.dtype(dtype)
    kinds = (dt, dt, np.dtype(f"u{dt.itemsize}"))
    if rows > TILE:
        return cast(_Work, tuple(np.empty((rows, n_pixels), k) for k in kinds))
    return cast(
        _Work,
        tuple(
            _scratch(f"work{i}", TILE * n_pixels, k)[: rows * n_pixels].reshape(rows, n_pixels)
            for i, k in enumerate(kinds)
        ),
    )


def _rows(flat: np.ndarray, rows: int, width: int) -> np.ndarray:
    """A contiguous (rows, width) view at the start of a flat scratch array (5× faster than a strided one)."""
    return flat[: rows * width].reshape(rows, width)


def _exp_inplace(x: np.ndarray, work) -> None:
    """x ← e^x for a (rows, pixels) array: exp32 with scratch, or exp64 on 16 rows at a time
    (its temporaries then stay small: 5× faster than on 128 rows)."""
    if x.dtype == np.float32:
        exp32(x, out=x, scratch=work)
        return
    for s in range(0, len(x), 16):
        x[s : s + 16] = exp64(x[s : s + 16])


def _support(row: np.ndarray) -> tuple[int, int]:
    """The span [lo, hi) outside which `row` is exactly 0."""
    nonzero = np.flatnonzero(row)
    return (int(nonzero[0]), int(nonzero[-1]) + 1) if len(nonzero) else (0, 0)


def _interp(x: float, xp: np.ndarray, fp: np.ndarray) -> float:
    """np.interp at one point, written out (a fixed formula: no compiler-fused multiply-add)."""
    j = int(np.clip(np.searchsorted(xp, x, side="right") - 1, 0, max(len(xp) - 2, 0)))
    if len(xp) < 2:
        return float(fp[0])
    w = (x - xp[j]) / (xp[j + 1] - xp[j])
    return float(fp[j] + w * (fp[j + 1] - fp[j]))


def _planck(wave: np.ndarray, t: np.ndarray) -> np.ndarray:
    """B_λ(T) / B_8000(T), rows per temperature (float64; e^x − 1 loses nothing, as x ≥ 1.26 here)."""
    t = np.asarray(t, dtype=np.float64)[:, None]
    q = wave / REF_WAVE
    return (exp64(1.4388e8 / (REF_WAVE * t)) - 1.0) / ((exp64(1.4388e8 / (wave * t)) - 1.0) * (q * q * q * q * q))


def _chebyshev_table(x: np.ndarray) -> np.ndarray:
    """(len(x), K) values T_k(x) by the three-term recurrence (as np.polynomial's chebvander)."""
    out = np.empty((len(x), _CHEB))
    out[:, 0] = 1.0
    out[:, 1] = x
    x2 = 2 * x
    for k in range(2, _CHEB):
        out[:, k] = out[:, k - 1] * x2 - out[:, k - 2]
    return out


def _continuum_series(wave: np.ndarray, nodes: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(K, pixels) Chebyshev coefficients in u = 1/T of D · c(λ, T) over [1/T_max, 1/T_min], and
    the smallest D · c(λ, T) at each pixel over the nodes.

    The least-squares fit of degree K − 1 at N Chebyshev nodes, in closed form (the columns of
    the Vandermonde matrix are orthogonal there, so no LAPACK solve is needed):
    c_k = (2 − δ_k0) / N · Σ_j f(x_j) T_k(x_j), summed over the nodes j in a fixed order.
    """
    x = np.cos(np.pi * (np.arange(nodes) + 0.5) / nodes)  # libm cos: see the module docstring
    u = (x * (_U_HI - _U_LO) + (_U_HI + _U_LO)) / 2
    exact = DEPTH * _planck(wave, 1.0 / u)  # (nodes, pixels)
    vander = _chebyshev_table(x)  # (nodes, K)
    coef = np.zeros((_CHEB, len(wave)))
    for j in range(nodes):
        coef += vander[j][:, None] * exact[j]
    coef *= 2.0 / nodes
    coef[0] *= 0.5
    return coef, exact.min(axis=0)


def _compress(series: np.ndarray, floor: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """Compress K series rows to `rank` basis spectra: series ≈ mix @ basis, mix (K, rank).

    The continuum is smooth in λ as well as in 1/T, so far fewer than K spectra span it: pivoted
    modified Gram–Schmidt on the rows, each pixel measured relative to the smallest continuum
    there, keeps the directions that matter (as a truncated SVD would; rank 8 leaves 1e-10
    relative, rank 9 3e-12, rank 12 2e-15). Dot products by math.fsum: correctly rounded, no BLAS.
    """
    scaled = series / floor
    residual = scaled.copy()
    basis: list[np.ndarray] = []
    for _ in range(min(rank, len(floor))):
        norms = [math.fsum(row * row) for row in residual]
        if max(norms) == 0.0:
            break
        q = residual[int(np.argmax(norms))].copy()
        for _ in range(2):  # orthogonalise twice: exact to rounding ("twice is enough")
            for b in basis:
                q -= math.fsum(q * b) * b
            q /= math.sqrt(math.fsum(q * q))
        basis.append(q)
        for row in residual:
            row -= math.fsum(row * q) * q
    mix = np.array([[math.fsum(row * b) for b in basis] for row in scaled])
    return mix, np.array(basis) * floor


def _doppler_cog(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equivalent width of a Gaussian (Doppler) line of strength a and Doppler width b (Å):
    2b √ln(1 + (a / 2b)²), which is a while a ≪ b and grows as √ln once the core is black."""
    half = a / (2 * b)
    return 2 * b * np.sqrt(log1p_64(half * half))


def _voigt_cog(a: np.ndarray, b: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """Equivalent width of a Voigt line (Rodgers & Williams: W² = W_D² + W_L² − (W_D W_L / a)²),
    from the Doppler curve of growth W_D and the Lorentz one W_L = a / √(1 + a / 4γ) (a while
    weak, 2√(aγ) once the wings saturate)."""
    w_d = _doppler_cog(a, b)
    w_l = a / np.sqrt(1 + a / (4 * gamma))
    cross = w_d * w_l / a
    return np.sqrt(np.maximum(w_d * w_d + w_l * w_l - cross * cross, 0.0))


def _gauss(wave: np.ndarray, center: float, sigma: float) -> np.ndarray:
    """A unit-area Gaussian on the grid, exactly 0 beyond 7σ (no denormal floats downstream)."""
    out = np.zeros_like(wave)
    lo, hi = np.searchsorted(wave, [center - 7 * sigma, center + 7 * sigma])
    out[lo:hi] = exp64(-0.5 * ((wave[lo:hi] - center) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    return out


def _smooth(values: np.ndarray, wave: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Convolve with the (locally constant) line-spread function: a fixed-order sum over the taps.

    (np.convolve would call a BLAS dot product, whose order depends on the CPU.)
    """
    step = wave[1] - wave[0]
    s = float(np.median(sigma)) / step
    half = int(np.ceil(5 * s))
    kernel = exp64(-0.5 * (np.arange(-half, half + 1) / s) ** 2)
    kernel = kernel / math.fsum(kernel)
    n = len(values)
    padded = np.concatenate([np.zeros(half), values, np.zeros(half)])
    out = np.zeros(n)
    for i, k in enumerate(kernel[::-1]):  # out[p] = Σ_i kernel[i] values[p + half - i] (np.convolve "same")
        out += k * padded[i : i + n]
    return out


@functools.lru_cache(maxsize=8)
def model(n_pixels: int = N_PIXELS, dtype: str = "float32") -> _Model:
    return _Model(n_pixels, np.dtype(dtype))


def spectra(
    params: Mapping[str, np.ndarray], *, n_pixels: int = N_PIXELS, dtype=np.float32, with_error: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Noise-free flux and per-pixel error (rows × pixels) for the given parameters: the model.

    `params` holds T_eff, log_g, Fe_H (or M_H) and mag arrays. Single-threaded; `generate`
    spreads batches over the cores. Row i depends on row i's parameters only.
    """
    m = model(n_pixels, np.dtype(dtype).name)
    feh = params["Fe_H"] if "Fe_H" in params else params["M_H"]
    t, g, mh, mag = (
        np.asarray(v, dtype=np.float64).reshape(-1) for v in (params["T_eff"], params["log_g"], feh, params["mag"])
    )
    flux = np.empty((len(t), n_pixels), dtype=m.dtype)
    error = np.empty_like(flux) if with_error else None
    for s in range(0, len(t), BATCH):
        e = min(s + BATCH, len(t))
        out = (flux[s:e], error[s:e] if error is not None else None)  # error is None iff not with_error
        m.flux_error(t[s:e], g[s:e], mh[s:e], mag[s:e], with_error=with_error, out=out)
    return flux, error


def snr_of(flux: np.ndarray, error: np.ndarray, scratch: np.ndarray | None = None) -> np.ndarray:
    """median(|flux| / error) per row: one partition and a max (np.median is several times slower).

    `scratch`: a float32 array of flux's shape to work in (it is overwritten).
    """
    ratio = np.abs(flux, out=scratch)
    ratio /= error
    p = ratio.shape[1]
    ratio.partition(p // 2, axis=1)
    upper = ratio[:, p // 2].astype(np.float64)
    if p % 2:
        return upper
    return 0.5 * (ratio[:, : p // 2].max(axis=1) + upper)


def _fill(out_flux, out_error, out_snr, params, start, stop, n_pixels):
    """Rows start … stop-1, written in place (each row depends on its own parameters only)."""
    m = model(n_pixels, "float32")
    feh = params["Fe_H"] if "Fe_H" in params else params["M_H"]
    t, g, mh, mag = (v[start:stop] for v in (params["T_eff"], params["log_g"], feh, params["mag"]))
    flux, error = m.flux_error(t, g, mh, mag, out=(out_flux[start:stop], out_error[start:stop]))
    for s in range(0, stop - start, TILE):
        e = min(s + TILE, stop - start)
        out_snr[start + s : start + e] = snr_of(flux[s:e], error[s:e], scratch=_work(e - s, n_pixels, np.float32)[0])


def _run(n, params, flux, error, snr, n_pixels, workers=None):
    """Fill rows 0 … n-1 batch by batch, the batches spread over `workers` threads.

    A row's bits do not depend on the batch it falls in, so neither on the thread count.
    """
    spans = [(s, min(s + BATCH, n)) for s in range(0, n, BATCH)]
    workers = workers or _threads()
    if workers == 1 or len(spans) == 1:
        for s, e in spans:
            _fill(flux, error, snr, params, s, e, n_pixels)
        return
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda span: _fill(flux, error, snr, params, span[0], span[1], n_pixels), spans))


def generate(
    n: int, *, seed: int = 0, ranges: Mapping | None = None, n_pixels: int = N_PIXELS, start: int = 0
) -> ArraySource:
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
    on_rows=None,
) -> list[Path]:
    """Write n spectra as `shards` HDF5 files `out_dir/shard_{k}/dataset.h5` (k = 0 … shards-1).

    Each file holds `flux`, `error` (rows × pixels float32), `wave` (pixels float64) and the
    columns `T_eff`, `log_g`, `Fe_H`, `mag`, `snr` (float32), plus attributes naming the
    generator, its version, the seed, the ranges and the shard's first global row (rows are
    `start` … `start + n - 1` of the seed's stream); read them back with the pattern
    `out_dir/shard_{0..K-1}/dataset.h5`. Memory stays bounded by `block`; `on_rows(k)` hears of
    every block of k rows written (a progress bar).
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
                generator=GENERATOR,
                generator_version=GENERATOR_VERSION,
                seed=seed,
                first_row=start + first,
                ranges=json.dumps(resolved),
                n_pixels=n_pixels,
            )
            dflux = f.create_dataset("flux", (rows, n_pixels), dtype="f4")
            derr = f.create_dataset("error", (rows, n_pixels), dtype="f4")
            f.create_dataset("wave", data=wavelength(n_pixels))
            cols = {name: f.create_dataset(name, (rows,), dtype="f4") for name in (*PARAMS, "snr")}
            for s in range(0, rows, block):
                part = generate(
                    min(block, rows - s), seed=seed, ranges=ranges, n_pixels=n_pixels, start=start + first + s
                )
                dflux[s : s + part.n] = part.flux
                derr[s : s + part.n] = part.error
                for name, ds in cols.items():
                    ds[s : s + part.n] = part.param(name)
                if on_rows is not None:
                    on_rows(part.n)
        paths.append(path)
    return paths
