"""Every output a spec declares needs a region in the report: without one it would be computed and
written nowhere, so the report is refused before anything trains, at the key that declares it,
with the markers to paste."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPORT_BODY, tree_digest

from engine.cli import main
from engine.text import document

RESEARCH = Path(sys.executable).parent / "research"

SPEC = """\
---
id: EXP-REGIONS
title: regions
data: {source: synthetic, n_train: 300, n_test: 100, targets: [log_g]}
model: {type: ridge, alpha: 100}
trials:
  base: {model.alpha: 1.0e+6}
  cand: {}
metrics: [r2.log_g, mae.log_g]
comparisons: [[cand, base]]
---
"""


def test_comparisons_without_their_region_are_refused_before_training(notebook):
    path = notebook / "research/x/exp/exp_regions.md"
    path.parent.mkdir(parents=True)
    path.write_text(SPEC + REPORT_BODY, encoding="utf-8")  # every region but comparisons
    before = tree_digest(notebook)

    done = subprocess.run(
        [str(RESEARCH), "run", str(path), "--no-commit"], capture_output=True, text=True, cwd=notebook
    )

    assert done.returncode == 2, done.stderr
    line = SPEC.splitlines().index("comparisons: [[cand, base]]") + 1
    assert f"exp_regions.md:{line}: comparisons: the report has no 'comparisons' region" in done.stderr
    assert "paste `<!-- research:comparisons -->` and `<!-- /research:comparisons -->`" in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1  # one paragraph
    assert tree_digest(notebook) == before
    assert not (notebook / ".research/runs").exists() or not any(
        (notebook / ".research/runs").iterdir()
    )  # nothing trained

    path.write_text(
        SPEC + REPORT_BODY + "\n<!-- research:comparisons -->\n<!-- /research:comparisons -->\n", encoding="utf-8"
    )
    assert subprocess.run([str(RESEARCH), "check", str(path)], capture_output=True, cwd=notebook).returncode == 0


def test_a_report_with_a_front_matter_only_is_refused_and_check_lists_every_missing_region(notebook, capsys):
    path = notebook / "exp.md"
    spec = SPEC.replace(
        "comparisons: [[cand, base]]\n",
        "figures:\n  - {kind: bar, file: img/bar.png}\nkey_numbers:\n  - {label: best, value: best.r2.log_g}\n",
    )
    path.write_text(spec, encoding="utf-8")

    assert main(["run", str(path), "--no-commit"]) == 2
    assert not (notebook / "img").exists()
    capsys.readouterr()
    assert main(["check", str(path)]) != 0
    out = capsys.readouterr().out
    rows = spec.splitlines()
    for key, row, name in (
        ("metrics", "metrics:", "results"),
        ("id", "id:", "record"),
        ("key_numbers", "key_numbers:", "key-numbers"),
        ("figures[0]", "  - {kind: bar", "figures"),
    ):  # the line of what declares it
        line = next(i for i, text in enumerate(rows, 1) if text.startswith(row))
        assert f"exp.md:{line}: {key}: the report has no '{name}' region" in out, out
    assert "`<!-- research:figure-1 -->` and `<!-- /research:figure-1 -->` for this one alone" in out


def test_an_adopted_report_has_the_regions_its_spec_needs(notebook, capsys):
    path = notebook / "exp_legacy.md"
    path.write_text("# Experiment Report: legacy\n\n## Notes\n\nNo tables here yet.", encoding="utf-8")

    assert main(["adopt", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    assert {"results", "record"} <= set(document.regions(text))
    assert document.strip_markers(text).endswith("No tables here yet.\n")
    capsys.readouterr()
    assert main(["check", str(path)]) == 0, capsys.readouterr().out
