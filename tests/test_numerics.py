"""Pinned CPU numerics, an option of the notebook (`research.yaml: numerics: avx2`): the variables
are set before torch loads, recorded in each trial's provenance, and a bad value is bad input."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPORT_PATH

from engine.cli import main
from engine.numerics import VARIABLES
from engine.run.plan import make_plan


def test_a_notebook_that_pins_its_numerics_trains_under_them_and_says_so(small_notebook):
    root, report = small_notebook
    (root / "research.yaml").write_text("numerics: avx2\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    command = [
        sys.executable,
        "-c",
        "from engine.cli import run; run()",
        "run",
        REPORT_PATH,
        "--retrain",
        "--no-commit",
    ]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)  # torch not loaded yet
    assert done.returncode == 0, done.stderr
    assert "numerics" not in done.stdout, done.stdout
    plan = make_plan(report)
    pinned = [t.record.provenance["environment"].get("numerics") for t in plan.trials]
    assert pinned == [{"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2,STRICT", "ONEDNN_MAX_CPU_ISA": "AVX2"}] * 2


def test_an_unknown_numerics_setting_is_bad_input(small_notebook, capsys):
    root, report = small_notebook
    (root / "research.yaml").write_text("language: en\nnumerics: avx512\n", encoding="utf-8")
    assert main(["run", str(report), "--no-commit"]) == 2
    err = capsys.readouterr().err
    assert "research.yaml" in err and "numerics" in err and "machine" in err and "avx2" in err
