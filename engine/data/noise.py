"""Observational noise as the user adds it: `flux + level · error · N(0, 1)`.

The draw for one pixel depends only on (seed, epoch, global spectrum index, pixel), never on
which block, worker or device computes it, so a result does not change with block size or
executor, and a net can draw the same noise on a GPU (`standard_normal_torch`).

The generator is counter-based. Per spectrum, splitmix64 of (seed, epoch, index) gives three
32-bit keys a, b, c. Pixels come in pairs k = 0 … ⌈P/2⌉−1; per pair, with H the 32-bit
"lowbias32" integer hash (a bijection),

    x = H(k ⊕ a),   w1 = H(x ⊕ b),   w2 = H(x ⊕ c)
    u = 1 − (w1 ≫ 9)·2⁻²³ ∈ (0, 1],   θ = (w2 ≫ 9)·2⁻²³ · π/2 ∈ [0, π/2)
    z₁ = ±√(−2 ln u) cos θ,   z₂ = ±√(−2 ln u) sin θ      (signs: bit 0 of w1, of w2)

Box–Muller with the angle folded into one quadrant and random signs (the same distribution,
cheaper). Pixel k holds z₁ of pair k and pixel ⌈P/2⌉ + k holds z₂. The 23-bit uniform truncates
the tails at |z| ≤ 5.65. Both implementations compute in float32 from the same integers; they
agree to float32 rounding of log, sqrt, cos and sin (not bit for bit: on a CPU about a third of
torch's values differ by an ulp, so the numpy stream is the data and torch is for the GPU only).

Rows are independent, so a large call spreads row blocks over the cores (`engine.data.threads`).
The bits depend neither on the thread count nor on the block or inner step: the numpy kernels
are elementwise, and `tests/fixtures/noise_reference.py` keeps the first version to compare with.
"""

from __future__ import annotations

import sys
import threading

import numpy as np

from .threads import available, run_spans

_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_CHUNK_PAIRS = 65536  # pairs per inner step: ~40 ufunc calls each, so larger steps pay less call overhead
_THREAD_MIN_VALUES = 1 << 17  # values per thread below which a call stays on one (a thread hand-off is ~50 µs)
_H1, _H2 = 0x7FEB352D, 0x846CA68B  # lowbias32 multipliers (C. Wellons)
_TWO23 = 2.0**-23
_HALF_PI = np.float32(np.pi / 2)
_ANGLE = np.float32(_HALF_PI * np.float32(_TWO23))  # exact: a power-of-two scaling of float32(π/2)
_U_H1, _U_H2 = np.uint32(_H1), np.uint32(_H2)
_S9, _S15, _S16, _S31 = (np.uint32(v) for v in (9, 15, 16, 31))
_ONE_BITS, _F2, _FM2 = np.uint32(0x3F800000), np.float32(2), np.float32(-2)
_local = threading.local()


def _splitmix(z: np.ndarray) -> np.ndarray:
    z = z.copy()
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


def row_keys(seed: int, epoch: int, index: np.ndarray) -> np.ndarray:
    """(rows, 3) uint32 keys (a, b, c) of each spectrum's stream."""
    index = np.asarray(index, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        s = _splitmix(np.array([(int(seed) ^ 0x5EED) & _M64], dtype=np.uint64))
        e = _splitmix(s ^ np.uint64((int(epoch) * _GOLDEN + 0xE90C) & _M64))
        rk = _splitmix(e ^ (index * np.uint64(_GOLDEN)))
        rc = _splitmix(rk ^ np.uint64(0xC0FFEE))
    keys = np.empty((len(index), 3), dtype=np.uint32)
    keys[:, 0] = rk & np.uint64(0xFFFFFFFF)
    keys[:, 1] = rk >> np.uint64(32)
    keys[:, 2] = rc & np.uint64(0xFFFFFFFF)
    return keys


def _hash32_tail(x: np.ndarray, t: np.ndarray) -> None:
    """lowbias32 in place on a uint32 array whose first step, x ^= x >> 16, is done (`t`: scratch).

    That step distributes over xor, (k ⊕ a) ⊕ ((k ⊕ a) ≫ 16) = (k ⊕ k ≫ 16) ⊕ (a ⊕ a ≫ 16), so
    `_fill` does it once on the shared side and once per row key instead of on every pixel."""
    x *= _U_H1
    np.right_shift(x, _S15, out=t)
    x ^= t
    x *= _U_H2
    np.right_shift(x, _S16, out=t)
    x ^= t


def _scratch(words: int) -> np.ndarray:
    """This thread's six uint32 temporaries of `words` each (kept: a fresh 1.5 MB faults its pages in)."""
    buf = getattr(_local, "buf", None)
    if buf is None or buf.shape[1] < words:
        buf = _local.buf = np.empty((6, max(words, _CHUNK_PAIRS)), np.uint32)
    return buf


def _fill(keys: np.ndarray, n_pixels: int, out: np.ndarray) -> None:
    """Write the N(0, 1) rows for `keys` into `out` (rows × n_pixels float32), on this thread.

    Every step is elementwise on exactly the float32 values the first version computed, so the
    bits are the same: θ = float(w2 ≫ 9) · (2⁻²³ · π/2) is one rounding of the same product as
    ((1.m) − 1) · π/2 (2⁻²³ scales exactly), and the sign goes onto cos θ before the product,
    as IEEE multiplication is symmetric in sign.
    """
    pairs = (n_pixels + 1) // 2
    n_sin = n_pixels - pairs
    rows_per = max(1, min(len(keys), _CHUNK_PAIRS // pairs))
    k = np.arange(pairs, dtype=np.uint32)
    k ^= k >> _S16
    keys = keys ^ (keys >> _S16)
    buf = _scratch(rows_per * pairs)
    x, w1, w2, t, r, f = (buf[i, : rows_per * pairs].reshape(rows_per, pairs) for i in range(6))
    r, f = r.view(np.float32), f.view(np.float32)
    for start in range(0, len(keys), rows_per):
        n = min(rows_per, len(keys) - start)
        kx, k1, k2, kt, kr, kf = x[:n], w1[:n], w2[:n], t[:n], r[:n], f[:n]
        a, b, c = (keys[start : start + n, j, None] for j in range(3))
        np.bitwise_xor(k, a, out=kx)
        _hash32_tail(kx, kt)  # x = H(k ^ a)
        np.right_shift(kx, _S16, out=kt)
        kt ^= kx
        np.bitwise_xor(kt, b, out=k1)
        np.bitwise_xor(kt, c, out=k2)
        _hash32_tail(k1, kt)  # w1 = H(x ^ b)
        _hash32_tail(k2, kt)  # w2 = H(x ^ c)
        # radius from w1: u = 2 - f with f = 1.m in [1, 2) built from the top 23 bits
        np.right_shift(k1, _S9, out=kt)
        kt |= _ONE_BITS
        np.subtract(_F2, kt.view(np.float32), out=kr)
        np.log(kr, out=kr)
        kr *= _FM2
        np.sqrt(kr, out=kr)
        # angle from w2, in [0, pi/2)
        np.right_shift(k2, _S9, out=kt)
        np.copyto(kf, kt.view(np.int32), casting="unsafe")  # < 2²³: exact, and int32 → float32 is one SIMD op
        kf *= _ANGLE
        rows = out[start : start + n]
        trig, trig_bits = kx.view(np.float32), kx
        np.cos(kf, out=trig)
        np.left_shift(k1, _S31, out=kt)
        trig_bits ^= kt
        np.multiply(kr, trig, out=rows[:, :pairs])
        if n_sin:
            np.sin(kf[:, :n_sin], out=trig[:, :n_sin])
            np.left_shift(k2[:, :n_sin], _S31, out=kt[:, :n_sin])
            trig_bits[:, :n_sin] ^= kt[:, :n_sin]
            np.multiply(kr[:, :n_sin], trig[:, :n_sin], out=rows[:, pairs:])


def _row_spans(n_rows: int, n_pixels: int, threads: int | None) -> tuple[list[tuple[int, int]], int]:
    """Row blocks and the threads to spread them over: one block per thread for a large call
    (a few more, so a core busy with something else does not hold the rest up), one for a small one."""
    workers = min(threads or available(), max(1, n_rows * n_pixels // _THREAD_MIN_VALUES))
    if workers <= 1:
        return [(0, n_rows)], 1
    step = -(-n_rows // (4 * workers))
    return [(s, min(s + step, n_rows)) for s in range(0, n_rows, step)], workers


def standard_normal(
    seed: int,
    epoch: int,
    index: np.ndarray,
    n_pixels: int,
    *,
    out: np.ndarray | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """N(0, 1) draws, one float32 row per spectrum index, reproducible per (seed, epoch, index, pixel).

    Rows are independent, so a large call spreads row blocks over `threads` (default: the cores
    this process may use); the bits do not depend on it."""
    assert sys.byteorder == "little", "the float bit tricks assume a little-endian machine"
    index = np.asarray(index, dtype=np.int64).reshape(-1)
    if out is None:
        out = np.empty((len(index), n_pixels), dtype=np.float32)
    elif out.shape != (len(index), n_pixels) or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float32 array of shape {(len(index), n_pixels)}")
    if len(index) and n_pixels:
        keys = row_keys(seed, epoch, index)
        spans, workers = _row_spans(len(index), n_pixels, threads)
        run_spans(lambda a, b: _fill(keys[a:b], n_pixels, out[a:b]), spans, workers)
    return out


def add_noise(
    flux: np.ndarray,
    error: np.ndarray,
    level: float,
    seed: int,
    epoch: int,
    index: np.ndarray,
    *,
    out: np.ndarray | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """`flux + level · error · N(0, 1)` as float32; `flux` is not modified unless it is `out`.

    Row blocks go to `threads` threads as in `standard_normal`; the bits do not depend on it."""
    flux = np.asarray(flux)
    if out is None:
        out = np.array(flux, dtype=np.float32, copy=True, order="C")
    elif out is not flux:
        np.copyto(out, flux, casting="same_kind")
    if level == 0 or out.size == 0:
        return out
    index = np.asarray(index, dtype=np.int64).reshape(-1)
    n_pixels = out.shape[1]
    step = max(1, (1 << 18) // max(n_pixels, 1))  # rows per step: the draw stays in cache
    scale = np.float32(level)

    def steps(first: int, last: int) -> None:
        z = np.empty((min(step, last - first), n_pixels), dtype=np.float32)
        for start in range(first, last, step):
            stop = min(start + step, last)
            zz = z[: stop - start]
            standard_normal(seed, epoch, index[start:stop], n_pixels, out=zz, threads=1)
            zz *= error[start:stop]
            if scale != 1:
                zz *= scale
            out[start:stop] += zz

    spans, workers = _row_spans(len(index), n_pixels, threads)
    run_spans(steps, spans, workers)
    return out


def standard_normal_torch(seed: int, epoch: int, index, n_pixels: int, device=None):
    """The same draws as `standard_normal`, computed by torch on `device` (float32 tensor)."""
    import torch

    if not isinstance(index, torch.Tensor):
        index = torch.as_tensor(np.asarray(index, dtype=np.int64))
    device = torch.device(device) if device is not None else index.device
    keys = torch.from_numpy(row_keys(seed, epoch, index.detach().cpu().numpy()).astype(np.int64)).to(device)
    mask = 0xFFFFFFFF

    def h(x):
        x = x ^ (x >> 16)
        x = (x * _H1) & mask
        x = x ^ (x >> 15)
        x = (x * _H2) & mask
        return x ^ (x >> 16)

    pairs = (n_pixels + 1) // 2
    k = torch.arange(pairs, dtype=torch.int64, device=device)
    x = h(k[None, :] ^ keys[:, :1])
    w1 = h(x ^ keys[:, 1:2])
    w2 = h(x ^ keys[:, 2:3])
    u = 1.0 - (w1 >> 9).to(torch.float32) * _TWO23
    r = torch.sqrt(torch.log(u) * -2.0)
    theta = ((w2 >> 9).to(torch.float32) * _TWO23) * torch.tensor(_HALF_PI, device=device)
    s1 = 1.0 - 2.0 * (w1 & 1).to(torch.float32)
    s2 = 1.0 - 2.0 * (w2 & 1).to(torch.float32)
    z1 = r * torch.cos(theta) * s1
    z2 = r * torch.sin(theta) * s2
    return torch.cat([z1, z2[:, : n_pixels - pairs]], dim=1)


def snr(flux: np.ndarray, error: np.ndarray) -> np.ndarray:
    """Per-spectrum signal-to-noise: median over pixels of |flux| / error (non-finite ratios skipped)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(flux) / error
    finite = np.isfinite(ratio)
    if finite.all():
        return np.median(ratio, axis=1).astype(np.float64)
    return np.nanmedian(np.where(finite, ratio, np.nan), axis=1).astype(np.float64)
