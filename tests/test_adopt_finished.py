"""`research adopt` on a finished MoE report: a draft spec that gets the user to a run.

The fixture (tests/fixtures/finished_moe_report.md) is a finished report in the user's style, of
a mixture of 9 frozen Ridge experts with three gates: its topic header is `` `VIT` / `moe` ``, its
noise level is said only in a sentence, its gates are named in a design table and its results
table, the appendix holds the overall, per-cell (3 × 3 Teff × [M/H]) and bootstrap tables, four
figures have their own file names, and one sentence is the acceptance criterion. Adopting it
must give a draft with the trials, model, binned cells, comparisons, figures and decision rule
that regenerate the report — every inferred value marked as a guess, with the line it came
from — and the draft must run after editing only a handful of lines (`EDITS`).
"""

import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import git, git_notebook

from engine.adopt.legacy import adopt_file, adopt_text
from engine.browse.check import check_file
from engine.cli import main
from engine.text import document

FIXTURE = Path(__file__).parent / "fixtures" / "finished_moe_report.md"
TEXT = FIXTURE.read_text(encoding="utf-8")
REPORT = "research/moe/exp/exp_moe_mse_gate.md"
IMAGES = (
    "mse_gate_r2_comparison.png",
    "mse_gate_delta_r2_per_bin.png",
    "mse_gate_weight_distribution.png",
    "mse_gate_bootstrap_delta.png",
)
HUB = """\
# 🧠 MoE gate hub

```
├── Q5: how should a gate be trained?
│   └── Q5.2: does a gate trained on the final MSE beat a classifying gate? → ⏳ MVP-3.1
```
"""
ROADMAP = "# MoE gate roadmap\n\n| MVP | 状态 | 结论 |\n|---|---|---|\n| MVP-3.1 | ⏳ | - |\n"
KANBAN = "# Kanban\n\n<!-- research:board -->\n<!-- /research:board -->\n"

#: The measure: every line of the draft edited before `research run` runs it here, on the
#: embedded generator's spectra at a small size (512-pixel shards, so the 27 expert fits of three
#: gates take seconds). On the generator's own 4,096 pixels (`source: synthetic`, as drafted) the
#: source line needs no edit: two lines, the sizes (`test_the_draft_runs_on_the_drafted_source`).
EDITS = {
    "  source: synthetic": "  source: ../../../data/shard_0/dataset.h5",
    "  n_train: 32000": "  n_train: 1000",
    "  n_test: 816": "  n_test: 300",
}


def front(text: str) -> dict:
    return yaml.safe_load(document.front_matter(text).text)


def edited(text: str, edits: dict[str, str]) -> str:
    """The draft with each line that starts with a key of `edits` replaced, exactly once each:
    the count of `edits` is the count of lines a user changes."""
    lines = text.splitlines(keepends=True)
    for start, new in edits.items():
        at = [i for i, line in enumerate(lines) if line.startswith(start + " ") or line.rstrip("\n") == start]
        assert len(at) == 1, f"{start!r} is on {len(at)} lines of the draft"
        lines[at[0]] = new + "\n"
    return "".join(lines)


def notebook(root: Path) -> Path:
    """A git notebook holding the legacy report, its hub, roadmap and kanban, and its figures."""
    git_notebook(
        root,
        {
            REPORT: TEXT,
            "research/moe/moe_gate_hub.md": HUB,
            "research/moe/moe_gate_roadmap.md": ROADMAP,
            "research/kanban.md": KANBAN,
            ".gitignore": ".research/\ndata/\n",
        },
    )
    (root / ".research").mkdir()
    images = root / "research/moe/exp/img"
    images.mkdir()
    for name in IMAGES:  # the hand-made run's figures, as the user has them
        (images / name).write_bytes(b"\x89PNG\r\n\x1a\n" + name.encode())
    git(root, "add", "-A")
    git(root, "commit", "-qm", "figures")
    return root / REPORT


# ---------------------------------------------------------------------------------------------
# The draft


def test_the_draft_holds_what_regenerates_the_report():
    spec = front(adopt_text(TEXT, path=REPORT).text)

    assert spec["topic"] == "moe"  # `VIT` / `moe`: the part that names the report's folder
    assert spec["data"] == {"source": "synthetic", "targets": ["log_g"], "n_train": 32000, "n_test": 816}
    assert spec["noise"] == {"level": 0.2}  # said only in a sentence
    assert spec["model"] == {
        "type": "moe",
        "experts": "grid",
        "alpha": 10000.0,
        "teff_edges": [3750.0, 4500.0, 5250.0, 6000.0],
        "feh_edges": [-1.0, -0.667, -0.333, 0.0],
        "gate": "logistic",
        "gate_steps": 100,
        "gate_patience": 10,
    }
    assert spec["trials"] == {
        "classify": {"model.gate": "logistic"},
        "mlp-gate": {"model.gate": "mlp_regression"},
        "linear-gate": {"model.gate": "linear_regression"},
    }
    assert spec["metrics"] == ["r2.log_g", "mae.log_g", "rmse.log_g"]
    assert spec["binned"] == [
        {
            "metric": "r2.log_g",
            "by": ["T_eff", "Fe_H"],
            "name": "cells",
            "edges": {"T_eff": [3750.0, 4500.0, 5250.0, 6000.0], "Fe_H": [-1.0, -0.667, -0.333, 0.0]},
            "names": {"T_eff": ["Cool", "Warm", "Hot"], "Fe_H": ["Metal-poor", "Intermediate", "Metal-rich"]},
            "trials": ["classify", "mlp-gate"],
            "delta": "baseline",
        }
    ]
    assert spec["comparisons"] == [["mlp-gate", "classify"], ["linear-gate", "classify"]]
    assert [(f["kind"], f["file"]) for f in spec["figures"]] == [
        ("bar", "img/mse_gate_r2_comparison.png"),
        ("binned_delta", "img/mse_gate_delta_r2_per_bin.png"),
        ("weights", "img/mse_gate_weight_distribution.png"),
        ("bootstrap", "img/mse_gate_bootstrap_delta.png"),
    ]
    assert spec["bootstrap"] == {"n": 1000}
    assert spec["decision"]["baseline"] == "classify"
    pass_rule, otherwise = spec["decision"]["rules"]
    assert pass_rule["when"] == (
        "compare('mlp-gate', 'classify').r2.log_g.value >= 0.005 and compare('mlp-gate', 'classify').r2.log_g.lo > 0"
    )
    assert (pass_rule["verdict"], otherwise["otherwise"]) == ("pass", "fail")
    assert [k["label"] for k in spec["key_numbers"]] == [
        "Baseline R² (classify)",
        "New R² (MLP gate)",
        "ΔR²",
        "95% CI low",
        "95% CI high",
        "ΔR² Hot Metal-poor",
        "ΔR² Cool Metal-rich",
    ]
    assert spec["key_numbers"][5]["value"] == "binned['cells']['Hot Metal-poor']['delta']['mlp-gate'].value"


def test_every_value_read_or_guessed_names_the_line_it_came_from():
    result = adopt_text(TEXT, path=REPORT)
    lines = result.text.splitlines()
    fm = document.front_matter(result.text).text

    cited = re.findall(r'(read from|guessed from) "([^"]+)" \(line (\d+)\)', fm)
    assert len(cited) >= 30

    def bare(text: str) -> str:
        return re.sub(r"[|*`'\"\s]", "", text)

    for how, quote, line in cited:  # a quote of several lines ("first … last", "a; b") starts on the cited one
        assert bare(re.split("[…;]", quote)[0])[:20] in bare(lines[int(line) - 1]), (how, quote, line)
    guessed = [line for line in fm.splitlines() if "guessed from" in line and not line.startswith("#")]
    assert all(line.endswith("; check") for line in guessed)
    for key in ("noise:", "  type: moe", "  classify:", "  rules:", "  - {kind: weights"):
        assert any(line.startswith(key) for line in guessed), key  # every inference says it is one


def test_the_summary_says_what_was_read_what_was_guessed_and_what_is_kept():
    summary = adopt_text(TEXT, path=REPORT).summary()

    assert "read from the report (`# read from`): topic, data.targets, data.n_train, data.n_test" in summary
    # the report is in Chinese: its regions will be too (a guess from its prose, said as one)
    assert "guessed (`# guessed from …: check`, `# guess:`): language, noise.level, model.type" in summary
    assert "trials (3)" in summary and "figures (4)" in summary and "decision.rules" in summary
    assert "fill by hand: 5800 spectra to train the gate" in summary  # no spec key holds it: said
    assert 'kept as yours: the hypothesis table: row "H5.2" is no hub question (Q…) a run answers' in summary


@pytest.mark.parametrize(
    ("header", "path", "topic", "note"),
    [
        ("> **Topic ｜ MVP:** `VIT` / `moe` ｜ MVP-3.1", REPORT, "moe", "read from"),
        ("> **Topic ｜ MVP:** `VIT` / `moe` ｜ MVP-3.1", "exp_gate.md", "moe", "guessed from"),
        ("> **Topic:** `VIT` / `gates` | **MVP:** MVP-3.1", "research/gates/exp/exp_gate.md", "gates", "read from"),
        ("> **Topic ｜ MVP:** `VIT` ｜ MVP-3.1", REPORT, "VIT", None),
    ],
)
def test_a_topic_of_project_and_topic_in_code_spans(header, path, topic, note):
    text = TEXT.replace("> **Topic ｜ MVP:** `VIT` / `moe` ｜ MVP-3.1", header)

    result = adopt_text(text, path=path)

    assert front(result.text)["topic"] == topic and front(result.text)["mvp"] == "MVP-3.1"
    line = next(line for line in result.text.splitlines() if line.startswith("topic:"))
    assert (note in line) if note else "#" not in line


def test_a_hypothesis_table_of_hub_questions_is_a_region_one_of_other_rows_stays_the_users():
    questions = TEXT.replace(
        "| H5.2: MSE 训练的 gate 优于分类 gate？ | 🟡 |", "| Q5.2: MSE 训练的 gate 优于分类 gate？ | 🟡 |"
    )

    assert "hypotheses" in adopt_text(questions, path=REPORT).found
    assert front(adopt_text(questions, path=REPORT).text)["answers"] == ["Q5.2"]
    kept = adopt_text(TEXT, path=REPORT)
    assert "hypotheses" not in kept.found and "hypotheses" not in kept.missing
    assert front(kept.text)["answers"] == []


def test_an_acceptance_criterion_of_a_relative_change_and_of_the_best_trial():
    text = TEXT.replace(
        "**验收标准**：ΔR² (MLP − classify) ≥ +0.005，且 95 % bootstrap 区间下界 > 0。",
        "**Acceptance criterion**: log g MAE down ≥ 3% against the baseline",
    )

    spec = front(adopt_text(text, path=REPORT).text)

    assert spec["metrics"][0] == "mae.log_g"  # the criterion's metric is the primary one
    assert spec["decision"]["rules"][0]["when"] == "best.mae.log_g <= 0.97 * baseline.mae.log_g"


BASELINES = """\
# 📘 Experiment Report: Four model families at noise 1
> **ID:** X-20260201-families

## Data

| Item | Value |
|---|---|
| Training spectra | 20,000 |
| Test spectra | 2,000 |
| Noise level | 1.0 |

**Success criterion**: R² ≥ 0.6

# 6. Appendix

### 6.1.1 Overall

| Method | R² | MAE |
|---|---|---|
| Ridge (baseline) | 0.5017 | 0.6112 |
| LightGBM | 0.5709 | 0.5530 |
| ViT | 0.7130 | 0.4418 |
| Fisher ceiling | 0.8900 | 0.3021 |
"""


def test_methods_that_are_model_families_are_trials_of_their_model_types():
    spec = front(adopt_text(BASELINES, path="exp_families.md").text)

    assert spec["model"] == {"type": "ridge"}  # the baseline's
    assert spec["trials"] == {
        "ridge": {"model": {"type": "ridge"}},
        "lightgbm": {"model": {"type": "lightgbm"}},
        "vit": {"model": {"type": "vit"}},
        "fisher-ceiling": {"model": {"type": "fisher_ceiling"}},
    }
    assert spec["decision"]["baseline"] == "ridge" and spec["decision"]["references"] == ["fisher-ceiling"]
    assert spec["decision"]["rules"][0]["when"] == "best.r2.log_g >= 0.6"


def test_a_criterion_no_condition_is_made_of_is_left_to_fill():
    text = TEXT.replace(
        "**验收标准**：ΔR² (MLP − classify) ≥ +0.005，且 95 % bootstrap 区间下界 > 0。",
        "**验收标准**：gate 的熵明显下降",
    )

    result = adopt_text(text, path=REPORT)

    assert "rules" not in front(result.text)["decision"]
    assert any("the acceptance criterion as decision.rules: gate 的熵明显下降" in t for t in result.to_fill)


def test_a_figure_named_after_a_parameter_no_table_bins_by_is_a_bar_chart():
    text = TEXT.replace(
        "[learned weights](./img/mse_gate_weight_distribution.png", "[R2 by SNR](./img/mse_gate_r2_vs_snr_per_bin.png"
    ).replace("**Figure 3. Distribution of the learned gate weights per expert**", "**Figure 3. R² per SNR bin**")
    text = text.replace("### 图 3：学到的权重分布", "### 图 3：R² by SNR")

    figures = front(adopt_text(text, path=REPORT).text)["figures"]

    assert figures[2] == {"kind": "bar", "metrics": ["r2.log_g"], "file": "img/mse_gate_r2_vs_snr_per_bin.png"}


def test_a_value_the_spec_refuses_is_taken_out_and_said():
    text = TEXT.replace("| Teff (K) | 3750, 4500, 5250, 6000 |", "| Teff (K) | 3750, 4500, 5250, 6000, 7000 |")

    result = adopt_text(text, path=REPORT)

    spec = front(result.text)
    assert "binned" in spec and spec["model"]["teff_edges"][-1] == 7000.0  # edges the spec takes
    assert spec["binned"][0]["edges"]["T_eff"] == [3750.0, 4500.0, 5250.0, 6000.0]  # 3 names: the grid's
    broken = TEXT.replace("![bootstrap of delta](./img/mse_gate_bootstrap_delta.png)", "![x](./img/x.gif)")
    result = adopt_text(broken, path=REPORT)
    assert [f["file"] for f in front(result.text)["figures"]][-1] == "img/mse_gate_weight_distribution.png"
    assert any("figure './img/x.gif'" in t for t in result.to_fill)


# ---------------------------------------------------------------------------------------------
# Committing the adopted file


def test_adopt_commits_the_adopted_file_and_says_so(tmp_path, capsys):
    path = notebook(tmp_path)

    assert main(["adopt", str(path)]) == 0

    out = capsys.readouterr().out
    assert re.search(r"committed [0-9a-f]{7}: research adopt: VIT-20260120-moe-mse-gate-01", out)
    assert git(tmp_path, "status", "--porcelain", "--", REPORT) == ""
    assert git(tmp_path, "log", "-1", "--format=%s") == "research adopt: VIT-20260120-moe-mse-gate-01 (exp)\n"
    assert git(tmp_path, "show", "--name-only", "--format=", "HEAD") == REPORT + "\n"  # that file alone


def test_no_commit_writes_and_says_to_commit(tmp_path, capsys):
    path = notebook(tmp_path)

    assert main(["adopt", str(path), "--no-commit"]) == 0

    assert "not committed: commit it before its first run" in capsys.readouterr().out
    assert git(tmp_path, "status", "--porcelain", "--", REPORT) == f" M {REPORT}\n"


def test_outside_git_it_says_that_stale_prose_needs_a_committed_copy(tmp_path, capsys):
    path = tmp_path / "exp_gate.md"
    path.write_text(TEXT, encoding="utf-8")

    assert main(["adopt", str(path)]) == 0

    out = capsys.readouterr().out
    assert "not committed:" in out and "is not in a git repository" in out
    assert "finds prose that still quotes the report's old numbers only against a committed copy" in out


def test_when_git_refuses_the_file_stays_staged_and_it_says_so(tmp_path, capsys):
    path = notebook(tmp_path)
    hook = tmp_path / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho no commits today >&2\nexit 1\n")
    hook.chmod(0o755)

    assert main(["adopt", str(path)]) == 0

    assert "staged, not committed: git could not commit" in capsys.readouterr().out
    assert git(tmp_path, "status", "--porcelain", "--", REPORT) == f"M  {REPORT}\n"


def test_stale_prose_is_found_from_the_first_run_without_a_commit_by_hand(tmp_path):
    path = notebook(tmp_path)
    adopt_file(path, commit=True)
    text = path.read_text(encoding="utf-8")

    new = {n: r.body.replace("0.8969", "0.6123") for n, r in document.regions(text).items() if n != "record"}
    path.write_text(document.replace_regions(text, new), encoding="utf-8")  # what a first run writes

    stale = [p for p in check_file(path) if "stale prose" in p.message]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert stale and all("still says 0.8969" in p.message for p in stale)
    quoting = [lines[p.line - 1] for p in stale]
    for start in ("- MLP gate 0.8969 最高", "> MLP gate 达到 0.8969", "| 1 | MSE 训练的", "| MLP gate R² | 0.8969"):
        assert any(line.startswith(start) for line in quoting), start  # insights, conclusions, tables of prose


# ---------------------------------------------------------------------------------------------
# The measure: the draft runs after editing len(EDITS) lines


def test_the_draft_runs_after_editing_three_lines(tmp_path, capsys):
    pytest.importorskip("torch")
    from engine.data import synth

    path = notebook(tmp_path)
    synth.write_shards(tmp_path / "data", 1500, n_pixels=512, seed=2)
    assert main(["adopt", str(path)]) == 0
    assert main(["check", str(path)]) == 0, capsys.readouterr().out  # the draft validates as it is
    capsys.readouterr()

    path.write_text(edited(path.read_text(encoding="utf-8"), EDITS), encoding="utf-8")
    assert len(EDITS) == 3 <= 10
    assert main(["run", str(path), "--dry-run"]) == 0
    plan = capsys.readouterr().out
    assert all(re.search(rf"{name}\s+new", plan) for name in ("classify", "mlp-gate", "linear-gate")), plan
    code = main(["run", str(path), "--device", "cpu"])

    out = capsys.readouterr().out
    assert code == 0, out
    text = path.read_text(encoding="utf-8")
    regions = document.regions(text)
    assert regions["summary"].body.startswith("> **") and "acceptance criterion" in regions["summary"].body
    assert "| mlp-gate" in regions["results"].body and "| linear-gate" in regions["results"].body
    assert "Hot Metal-poor" in regions["binned-0"].body and "Δ mlp-gate" in regions["binned-0"].body
    assert "mlp-gate − classify" in regions["comparisons"].body
    assert "| ΔR² Hot Metal-poor |" in regions["key-numbers"].body
    for n, image in enumerate(IMAGES, start=1):  # drawn again under their own names, linked from their slots
        assert (path.parent / "img" / image).stat().st_size > 1000
        assert f"img/{image}" in regions[f"figure-{n}"].body
    assert "| H5.2: MSE 训练的 gate 优于分类 gate？ | 🟡 | +0.0095 R²，区间下界碰到 0 |" in text  # the user's row
    assert front(text)["status"] == "done"
    stale = [p for p in check_file(path) if "stale prose" in p.message]
    assert any("still says 0.8969" in p.message for p in stale)  # found on the first run's commit


@pytest.mark.slow
def test_the_draft_runs_on_the_drafted_source_after_editing_two_lines(tmp_path, capsys):
    """On the generator's own spectra (4,096 pixels, as drafted): only the sizes change. ~100 s."""
    pytest.importorskip("torch")
    path = notebook(tmp_path)
    assert main(["adopt", str(path)]) == 0
    sizes = {key: value for key, value in EDITS.items() if "source" not in key}

    path.write_text(edited(path.read_text(encoding="utf-8"), sizes), encoding="utf-8")

    assert main(["run", str(path), "--device", "cpu"]) == 0, capsys.readouterr().out
    assert front(path.read_text(encoding="utf-8"))["status"] == "done"


def test_the_fixture_is_the_users_kind_of_report():
    """What makes the measure mean something: the fixture holds every part the user's finished
    report has (the README of ../shared/examples describes it)."""
    assert "`VIT` / `moe`" in TEXT and "noise level 0.2" in TEXT and "1,000 resamples" in TEXT
    appendix = TEXT[TEXT.index("# 6. 📎 附录") :]
    for heading in ("### 6.1.1 Overall", "### 6.1.2 Per bin", "### 6.1.3 Bootstrap"):
        assert heading in appendix
    assert len(re.findall(r"^\| \d \| \w+ [\w-]+ \|", appendix, re.MULTILINE)) == 9  # the 9 cells
    assert shutil.which("git")
