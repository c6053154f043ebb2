"""`metrics: [r2.log_g, info.receptive_field]` — a number each trial's model reported as a column
of the results table (issue #27: the dilated CNN with d = 1 / 2 and its receptive field beside
its scores). The column holds the plain value (a repeated trial's when its seeds agree), '–' for
a model that reported none, and never enters what ranks or resamples: the primary metric is the
first and an info path there is refused at its line before anything trains, exit 2.

Tiny data (512-pixel synthetic shards, a few hundred spectra, 2-epoch cnns): seconds a run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TINY_BASE, spec_report, tree_digest

pytest.importorskip("torch")

from engine.cli import main
from engine.notebook import record as run_record
from engine.render.repeats import info_text
from engine.text import document

pytestmark = pytest.mark.usefixtures("one_torch_thread")

RESEARCH = str(Path(sys.executable).with_name("research"))
BASE = TINY_BASE
CHANNELS, KERNEL, STRIDE = [8, 16], 5, 2


def cnn(dilation: int, more: str = "") -> str:
    return (
        f"{{model: {{type: cnn, channels: {CHANNELS}, kernel: {KERNEL}, stride: {STRIDE}, dilation: {dilation}, "
        f"pool: 8, hidden: 32}}, train.epochs: 2{more}}}"
    )


def receptive_field(dilation: int) -> int:
    """The README's formula, 1 + Σ (kernel − 1) · dilation · stride^layer, worked out here."""
    return 1 + sum((KERNEL - 1) * dilation * STRIDE**layer for layer in range(len(CHANNELS)))


def results_table(path: Path) -> tuple[list[str], dict[str, list[str]]]:
    """(the header's cells, trial → its row's cells) of the report's results table."""
    text = path.read_text(encoding="utf-8")
    body = document.regions(text, str(path))["results"].body
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")] for line in body.splitlines() if line.startswith("|")
    ]
    header, rest = rows[0], rows[2:]
    return header, {re.sub(r" 🥇| \(baseline\)", "", r[0]): r for r in rest}


def test_the_receptive_field_is_a_column_of_the_results_table(tiny_nb, capsys):
    path = report(
        tiny_nb,
        "research/c/exp/exp_dilation.md",
        BASE
        + f"""
metrics: [r2.log_g, info.receptive_field, mae.log_g]
trials:
  d1: {cnn(1)}
  d2: {cnn(2)}
  d2-seeds: {cnn(2, ", repeats: 2")}
  ridge: {{}}
figures:
  - {{kind: bar, file: img/bars.png}}
""",
    )
    assert main(["run", str(path), "--no-commit"]) == 0, capsys.readouterr()
    header, rows = results_table(path)

    # the column stands where `metrics:` puts it, named by the figures' quantity words
    assert header == ["Trial", "Seeds", "r2.log_g", "receptive field (info.receptive_field)", "mae.log_g"]
    assert receptive_field(1) == 1 + 4 * 1 + 4 * 2 == 13 and receptive_field(2) == 25
    assert rows["d1"][3] == str(receptive_field(1))  # an int as an int: no decimals, no interval
    assert rows["d2"][3] == str(receptive_field(2))
    assert rows["d2-seeds"][3] == str(receptive_field(2))  # both seeds report 25: the value, not 25 ± 0
    assert "±" in rows["d2-seeds"][2]  # its scores are still mean ± std over the seeds
    assert rows["ridge"][3] == "–"  # a ridge reports no receptive field: a dash, not an error
    assert re.fullmatch(r"-?\d\.\d{4}", rows["ridge"][2])  # beside its scores as always

    # the models' own number, as stored, is what the table shows
    rec = run_record.parse(path.read_text(encoding="utf-8"))
    from engine.notebook.store import KeyParts, RunStore

    store = RunStore(tiny_nb / ".research/runs")
    infos = {
        row["name"]: json.loads((store.path(KeyParts(**row["parts"]).key) / "record.json").read_text())["info"]
        for row in rec["trials"]
        if "parts" in row  # each run; a repeated trial's own row is its seeds' mean
    }
    assert infos["d1"]["receptive_field"] == receptive_field(1)
    assert infos["d2-seeds.seed-1"]["receptive_field"] == infos["d2-seeds.seed-2"]["receptive_field"] == 25
    assert "receptive_field" not in infos["ridge"]

    # never resampled, ranked or recorded as a metric; the bar figure's default metrics are the scores
    for row in rec["trials"]:
        assert all(not m.startswith("info") for m in row["metrics"]), row["metrics"]
        assert set(row["metrics"]) == {"r2.log_g", "mae.log_g"}
    assert rec["primary"] == "r2.log_g"
    figures = document.regions(path.read_text(encoding="utf-8"), str(path))["figures"].body
    assert "r2.log_g, mae.log_g per trial" in figures and "receptive" not in figures


def test_an_info_value_the_seeds_disagree_on_is_their_mean_and_std():
    assert info_text([25, 25]) == "25"
    assert info_text([12, 14]) == "13 ± 1.414"
    assert info_text([0.5]) == "0.5"
    assert info_text([25, None]) is None  # a seed that reported none: no mean of fewer seeds
    assert info_text([{"log_g": 1.0}]) is None
    assert info_text([True]) is None


def _refused(root: Path, path: Path) -> str:
    before = tree_digest(root)
    done = subprocess.run([RESEARCH, "run", str(path), "--no-commit"], capture_output=True, text=True, cwd=root)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("research: ") and "Traceback" not in done.stderr
    assert tree_digest(root) == before
    assert not any((root / ".research").rglob("record.json"))  # nothing trained
    return done.stderr


def line_of(path: Path, fragment: str) -> int:
    return next(i for i, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if fragment in row)


@pytest.mark.parametrize(
    ("front", "said"),
    [
        (
            "metrics:\n  - info.receptive_field\n  - r2.log_g\n",
            "metrics[0]: the first metric is the primary one",
        ),
        ("metrics: [r2.log_g, info.]\n", "metrics[1]: expected info.<key>"),
        (
            "metrics: [r2.log_g]\nfigures:\n  - {kind: bar, file: img/b.png, metrics: [r2.log_g, info.receptive_field]}\n",
            "figures[0].metrics[1]: 'info.receptive_field' is a number a model reported, not a metric",
        ),
    ],
)
def test_an_info_path_where_it_cannot_stand_is_refused_at_its_line(tiny_nb, front, said):
    path = report(tiny_nb, "research/c/exp/exp_bad.md", BASE + f"trials:\n  d1: {cnn(1)}\n" + front)
    err = _refused(tiny_nb, path)
    fragment = "info.receptive_field" if "metrics[0]" in said or "figures" in said else "info.]"
    assert f":{line_of(path, fragment)}: {said}" in err, err
    if "primary" in said:
        assert "put a metric such as r2.log_g first" in err


def test_an_info_column_is_one_column_beside_the_test_sets_and_no_metric():
    from engine.spec.experiment import load_spec

    spec = load_spec(
        "id: X\ntitle: x\nmodel: {type: ridge}\ndata: {tests: {full: {}, low: {select: {snr_top_frac: 0.2}}}}\n"
        "metrics: [r2.log_g, info.alpha.M_H, mae.log_g]\n",
        path="x.md",
    )
    assert spec.primary_metric == "r2.log_g"
    assert spec.info_columns == ["info.alpha.Fe_H"]  # an alias read as its target, as a figure's y: is
    # a model reports its info once, not per test set: one column after the sets' groups
    assert spec.result_columns == [
        "r2.log_g@full",
        "mae.log_g@full",
        "r2.log_g@low",
        "mae.log_g@low",
        "info.alpha.Fe_H",
    ]
    assert not any(m.startswith("info") for m in [*spec.shown_metrics, *spec.interval_metrics])


def report(root: Path, rel: str, front: str) -> Path:
    return spec_report(root, rel, front, regions=("results", "figures", "record"))
