"""Deterministic exp and log for numpy arrays: the same bits on any machine.

numpy's own transcendental ufuncs (np.exp, np.log, np.power, np.logaddexp, …) take CPU-specific
paths — AVX2, AVX512F or SVML kernels, or the C library — that may differ in the last bit, so
data computed with them can change from one machine to the next. The functions here are built
only from operations IEEE 754 rounds exactly (+ − × ÷, comparisons, integer and bit operations,
`np.frexp`), applied elementwise in a fixed order, so each output element is a function of its
input element alone: the same whatever the array's shape, the SIMD width or the CPU.

    exp(x) = 2^k · p(r),   k = round(x / ln 2),   r = x − k·C₁ − k·C₂   (Cody–Waite: C₁ + C₂ = ln 2,
                                                                         k·C₁ exact)

with 2^k built from k's bits. `exp32` evaluates a degree-6 polynomial in float32 (a minimax fit,
relative error 3.1e-9 on |r| ≤ ln 2 / 2): within 1 ulp of the correctly rounded result. `exp64`
is fdlibm's rational form and `log64` fdlibm's log (x = 2^k (1 + f), √½ ≤ 1 + f < √2,
s = f / (2 + f), log(1 + f) = 2 atanh(s) as a polynomial in s²), both < 1 ulp. `pow10_64`,
`log1p_64` and `log_1p_exp64` (np.logaddexp(0, z)) are built on them. They stand in for numpy's
functions where bits must not depend on the machine; they are slower (exp32 is ~20 passes).

Ranges: `exp32` returns exp(−86.5) ≈ 2.7e−38 for x < −86.5 (no subnormals) and needs x ≤ 88;
`exp64` clamps to [−708, 709]; `log64` needs x > 0 finite.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# ---- float32 exp -----------------------------------------------------------------------------
_F32 = np.float32
_LOG2E_32 = _F32(1.4426950408889634)
_C1_32 = _F32(0.693359375)  # ln 2 to 9 bits: k·C₁ is exact for |k| < 2^15
_C2_32 = _F32(-2.12194440e-4)  # ln 2 − C₁
# x/ln2 + 1.5·2^23 rounds to an integer in the low mantissa bits; +127 pre-biases the exponent
_MAGIC_32 = _F32(12582912.0 + 127.0)
_LO_32 = _F32(-86.5)  # e^x stays a normal float (≥ 2^-126 ≈ e^-87.34): no subnormals
# p(r) = 1 + r + r²(q₀ + q₁r + q₂r² + q₃r³ + q₄r⁴) ≈ e^r on |r| ≤ ln 2 / 2, relative error 3.1e-9
_P32 = tuple(
    _F32(c)
    for c in (
        0.0013814589474350214,
        0.0083687175065279,
        0.04166838899254799,
        0.1666652113199234,
        0.4999999403953552,
        1.0,
        1.0,
    )
)

# ---- float64 exp and log (fdlibm e_exp.c, e_log.c) ------------------------------------------
_LOG2E_64 = 1.44269504088896338700e00
_LN2_HI = 6.93147180369123816490e-01  # ln 2 to 32 bits: k·LN2_HI is exact for |k| < 2^20
_LN2_LO = 1.90821492927058770002e-10
_MAGIC_64 = 6755399441055744.0 + 1023.0  # 1.5·2^52, +1023 pre-biases the exponent
_LO_64, _HI_64 = -708.0, 709.0
_EXP_P = (
    1.66666666666666019037e-01,
    -2.77777777770155933842e-03,
    6.61375632143793436117e-05,
    -1.65339022054652515390e-06,
    4.13813679705723846039e-08,
)
_LG = (
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
)
_SQRT_HALF = 0.70710678118654752440


def exp32(x: np.ndarray, out: np.ndarray | None = None, scratch: tuple | None = None) -> np.ndarray:
    """e^x for a float32 array, elementwise and bit-reproducible (≤ 1 ulp; x ≤ 88).

    `out` may be `x` (in place). `scratch` is an optional pair of float32 arrays and one uint32
    array of x's shape, to spare the allocations in a hot loop. About 20 passes over the data.
    """
    x = np.asarray(x, dtype=np.float32)
    if out is None:
        out = np.empty_like(x)
    a, b, bits = scratch if scratch is not None else (np.empty_like(x), np.empty_like(x), np.empty(x.shape, np.uint32))
    floor = np.broadcast_to(_LO_32, x.shape[-1:]) if x.ndim else _LO_32
    np.maximum(x, np.ascontiguousarray(floor), out=out)  # an array operand: numpy's fast loop
    np.multiply(out, _LOG2E_32, out=a)
    a += _MAGIC_32  # rounds x/ln2 to the integer k, held in the low mantissa bits
    np.left_shift(a.view(np.uint32), 23, out=bits)  # (k + 127) << 23: the float 2^k
    a -= _MAGIC_32  # k, exactly
    np.multiply(a, _C1_32, out=b)
    out -= b  # exact
    a *= _C2_32
    out -= a  # r, |r| ≤ ln 2 / 2
    np.multiply(out, _P32[0], out=a)  # Horner
    for c in _P32[1:-1]:
        a += c
        a *= out
    a += _P32[-1]
    np.multiply(a, bits.view(np.float32), out=out)
    return out


def _pow2_64(k_biased: np.ndarray) -> np.ndarray:
    """2^k from floats holding k + 1.5·2^52 + 1023 (the magic rounding of `exp64`)."""
    return np.left_shift(k_biased.view(np.uint64), 52).view(np.float64)


def exp64(x: npt.ArrayLike) -> np.ndarray:
    """e^x for float64 values, elementwise and bit-reproducible (fdlibm's algorithm, < 1 ulp)."""
    x = np.clip(np.asarray(x, dtype=np.float64), _LO_64, _HI_64)
    s = x * _LOG2E_64 + _MAGIC_64
    scale = _pow2_64(s)
    k = s - _MAGIC_64
    hi = x - k * _LN2_HI  # exact
    lo = k * _LN2_LO
    r = hi - lo
    t = r * r
    p1, p2, p3, p4, p5 = _EXP_P
    c = r - t * (p1 + t * (p2 + t * (p3 + t * (p4 + t * p5))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    return y * scale


def log64(x: np.ndarray) -> np.ndarray:
    """Natural log of positive float64 values, elementwise and bit-reproducible (fdlibm, < 1 ulp)."""
    m, e = np.frexp(np.asarray(x, dtype=np.float64))  # x = m·2^e, 0.5 ≤ m < 1: exact
    low = m < _SQRT_HALF
    m = np.where(low, m + m, m)
    k = (e - low).astype(np.float64)
    f = m - 1.0  # exact (Sterbenz)
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    g1, g2, g3, g4, g5, g6, g7 = _LG
    t1 = w * (g2 + w * (g4 + w * g6))
    t2 = z * (g1 + w * (g3 + w * (g5 + w * g7)))
    r = t2 + t1
    hfsq = 0.5 * f * f
    return k * _LN2_HI - ((hfsq - (s * (hfsq + r) + k * _LN2_LO)) - f)


LN10 = 2.302585092994045684  # ln 10 rounded to float64
INV_LN10 = 0.4342944819032518277  # 1 / ln 10 rounded to float64


def pow10_64(x: np.ndarray) -> np.ndarray:
    """10^x = e^(x ln 10) (float64, reproducible)."""
    return exp64(np.asarray(x, dtype=np.float64) * LN10)


def log1p_64(x: np.ndarray) -> np.ndarray:
    """ln(1 + x) for x ≥ 0, accurate also for tiny x (Goldberg: ln(u) · x / (u − 1), u = 1 + x)."""
    x = np.asarray(x, dtype=np.float64)
    u = 1.0 + x
    d = u - 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(d == 0.0, x, log64(u) * (x / np.where(d == 0.0, 1.0, d)))


def log_1p_exp64(z: np.ndarray) -> np.ndarray:
    """ln(1 + e^z) without overflow: max(z, 0) + ln(1 + e^−|z|) (what np.logaddexp(0, z) computes)."""
    z = np.asarray(z, dtype=np.float64)
    return np.maximum(z, 0.0) + log1p_64(exp64(-np.abs(z)))
