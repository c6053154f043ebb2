"""Pinned CPU numerics: the same vector kernels on every x86 CPU with AVX2, as an opt-in.

A net trained on the CPU takes another path through MKL, oneDNN and PyTorch's own kernels on
another instruction set (AVX-512 here, AVX2 there), and so trains another network from the same
seed. The notebook setting

    numerics: avx2        # research.yaml; default: machine (each CPU's fastest kernels)

sets, for this process and the Ray workers it starts, `ATEN_CPU_CAPABILITY=avx2` (PyTorch),
`MKL_CBWR=AVX2,STRICT` (MKL's conditional numerical reproducibility) and
`ONEDNN_MAX_CPU_ISA=AVX2`, unless the environment sets them already. They are read when torch
and MKL load, so they are set before anything imports torch. Measured by
`bench/bench_numerics.py` on this project's machine: MKL's AVX2 path is what changes an MLP's bits
(PyTorch's own AVX2 kernels alone give the default's), at no measurable cost (1.05× the default, inside the runs' spread). That
the pinned bits are the same on another CPU needs a second kind of CPU to show, and other thread
counts or oneDNN's blocking can still differ — so a reproduction is judged by the training noise
either way (`engine.run.reproduce`), and this stays an option.
"""

from __future__ import annotations

import os
import sys

#: setting → the environment it pins ("machine": nothing)
SETTINGS: dict[str, dict[str, str]] = {
    "machine": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2,STRICT", "ONEDNN_MAX_CPU_ISA": "AVX2"},
}
VARIABLES = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA")


def pin(setting: str, say=None) -> dict[str, str]:
    """Set the setting's variables that the environment does not set already; what was set.
    Too late once torch is imported (it read them then): said, and nothing changes."""
    wanted = {k: v for k, v in SETTINGS[setting].items() if k not in os.environ}
    if wanted and "torch" in sys.modules:
        if say is not None:
            say(f"numerics: {setting} asked for, but torch is already loaded with the machine's kernels")
        return {}
    os.environ.update(wanted)
    return wanted


def in_effect() -> dict[str, str]:
    """The pinning variables this process runs under (for a trial's provenance and Ray workers)."""
    return {k: os.environ[k] for k in VARIABLES if k in os.environ}
