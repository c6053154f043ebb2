"""Comparing runs: `research runs`, `show` and `diff`, and the Python API under them
(`engine.browse.api`), on a real git notebook whose reports really ran.

The notebook: an HDF5 file of 400 spectra of 64 pixels (written with h5py), a report of three
Ridge trials at `research/scaling/exp/exp_baselines.md` (the path the README's Python example
names), a second report sharing two trial names, both run and committed by `research run`; then
one config value of the first changed and the report run again, so `@HEAD~1` holds the old one.
"""

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import git
import pytest
from conftest import report_body, tree_digest

from engine.browse.api import Notebook
from engine.cli import main
from engine.errors import ResearchError

ROOT = Path(__file__).resolve().parents[1]
BASELINES = "research/scaling/exp/exp_baselines.md"
OTHER = "research/scaling/exp/exp_other.md"

REPORT = """\
---
id: {id}
title: ridge α
status: planned
data: {{source: ../../../data/spectra.h5, n_train: {n_train}, n_test: 120, targets: [log_g]}}
noise: {{level: 0.0}}
model: {{type: ridge, alpha: 1000.0}}
trials:
{trials}
metrics: [r2.log_g, mae.log_g]
binned:
  - {{metric: mae.log_g, by: T_eff, edges: [4000, 5000, 6000]}}
figures:
  - {{kind: bar, file: img/{id}.png}}
decision:
  baseline: {baseline}
  rules:
    - when: best.r2.log_g > baseline.r2.log_g
      verdict: pass
      says: "a lighter penalty wins"
    - otherwise: fail
      says: "the heavy penalty holds"
key_numbers:
  - {{label: best log g R², value: best.r2.log_g}}
---
""" + report_body("summary", "key-numbers", "results", "binned", "figures", title="Ridge α", before="用户写的前言。\n")

THREE = "  ridge-a1e2: {model.alpha: 100.0}\n  ridge-a1e3: {}\n  ridge-a1e4: {model.alpha: 10000.0}"
TWO = "  ridge-a1e2: {model.alpha: 100.0}\n  ridge-a1e3: {}"


def _spectra(path: Path) -> None:
    import h5py
    import numpy as np

    rng = np.random.default_rng(0)
    n, p = 400, 64
    labels = {
        "T_eff": rng.uniform(4000, 6000, n),
        "log_g": rng.uniform(1, 5, n),
        "Fe_H": rng.uniform(-1, 0, n),
        "mag": rng.uniform(14, 18, n),
        "snr": rng.uniform(5, 50, n),
    }
    basis = rng.normal(size=(3, p))
    physics = np.stack([labels["log_g"], labels["T_eff"] / 1000, labels["Fe_H"]], 1) @ basis
    flux = 1 + 0.05 * physics + rng.normal(0, 0.05, (n, p))
    with h5py.File(path, "w") as f:
        f["flux"] = flux.astype("f4")
        f["error"] = np.full((n, p), 0.05, "f4")
        f["wave"] = np.linspace(6500, 9000, p)
        for name, values in labels.items():
            f[name] = values


@pytest.fixture(scope="module")
def browsed(tmp_path_factory):
    """The notebook root, its reports run and committed, the first changed and run again."""
    root = tmp_path_factory.mktemp("browse") / "nb"
    (root / "data").mkdir(parents=True)
    (root / "research/scaling/exp").mkdir(parents=True)
    _spectra(root / "data/spectra.h5")
    (root / BASELINES).write_text(
        REPORT.format(id="EXP-BASE", n_train=250, trials=THREE, baseline="ridge-a1e4"), encoding="utf-8"
    )
    (root / OTHER).write_text(
        REPORT.format(id="EXP-OTHER", n_train=150, trials=TWO, baseline="ridge-a1e3"), encoding="utf-8"
    )
    repo = git.Repo.init(root)
    with repo.config_writer() as config:
        config.set_value("user", "name", "tester")
        config.set_value("user", "email", "tester@example.com")
    repo.index.add(["data/spectra.h5", BASELINES, OTHER])
    repo.index.commit("notebook")
    assert main(["run", str(root / BASELINES), str(root / OTHER)]) == 0
    report = root / BASELINES
    report.write_text(report.read_text(encoding="utf-8").replace("alpha: 1000.0}", "alpha: 3000.0}"), encoding="utf-8")
    assert main(["run", str(report)]) == 0  # commits the edit with the numbers it made
    assert len(list(repo.iter_commits())) == 4 and not repo.is_dirty()
    return root


@pytest.fixture
def nb(browsed, monkeypatch):
    monkeypatch.chdir(browsed)
    return browsed


def _json(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def _recorded(root, path):
    from engine.notebook.record import parse

    return parse((root / path).read_text(encoding="utf-8"))


# --- research runs ----------------------------------------------------------------------------


def test_runs_lists_every_trial_with_the_parameters_that_differ(nb, capsys):
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "trial" in line)
    for column in ("report", "trial", "model", "model.alpha", "r2.log_g", "mae.log_g", "role", "verdict", "stale"):
        assert column in header
    rows = [line for line in out.splitlines() if "EXP-" in line]
    assert len(rows) == 5
    row = next(line for line in rows if "EXP-BASE" in line and "ridge-a1e3" in line)
    assert "3000" in row and "ridge" in row and "pass" in row and " no " in row
    assert "best" in next(line for line in rows if "EXP-BASE" in line and "ridge-a1e2" in line)
    assert "baseline" in next(line for line in rows if "EXP-BASE" in line and "ridge-a1e4" in line)
    assert "5 trials in 2 reports" in out


def test_runs_json_holds_the_run_records_numbers(nb, capsys):
    records = _json(capsys, "runs", "--json")
    assert [(r["report"], r["trial"]) for r in records] == [
        ("EXP-BASE", "ridge-a1e2"),
        ("EXP-BASE", "ridge-a1e3"),
        ("EXP-BASE", "ridge-a1e4"),
        ("EXP-OTHER", "ridge-a1e2"),
        ("EXP-OTHER", "ridge-a1e3"),
    ]
    recorded = _recorded(nb, BASELINES)
    by_name = {t["name"]: t for t in recorded["trials"]}
    for r in records[:3]:
        assert r["metrics"] == by_name[r["trial"]]["metrics"]
        assert list(r["metrics"]) == ["r2.log_g", "mae.log_g"]  # the primary first
        assert r["best"] == (r["trial"] == recorded["best"]) and r["baseline"] == (r["trial"] == "ridge-a1e4")
        assert r["stale"] is False and r["why"] == [] and r["path"] == BASELINES and r["model"] == "ridge"
    # only what differs between a report's trials: α, not n_train or the noise
    assert [r["params"] for r in records] == [
        {"model.alpha": 100.0},
        {"model.alpha": 3000.0},
        {"model.alpha": 10000.0},
        {"model.alpha": 100.0},
        {"model.alpha": 1000.0},
    ]


def test_runs_csv_is_one_row_per_trial_with_every_column(nb, capsys):
    assert main(["runs", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 5
    assert list(rows[0]) == [
        "report",
        "trial",
        "model",
        "model.alpha",
        "r2.log_g",
        "mae.log_g",
        "best",
        "baseline",
        "verdict",
        "stale",
        "path",
    ]
    assert {r["trial"] for r in rows if r["best"] == "True"} == {"ridge-a1e2"}
    assert float(rows[1]["model.alpha"]) == 3000.0 and float(rows[1]["mae.log_g"]) > 0


def test_runs_sorts_best_first_whichever_way_a_metric_points(nb, capsys):
    by_mae = [r["metrics"]["mae.log_g"] for r in _json(capsys, "runs", "--json", "--sort", "mae.log_g")]
    assert by_mae == sorted(by_mae)  # lower is better
    by_r2 = [r["metrics"]["r2.log_g"] for r in _json(capsys, "runs", "--json", "--sort", "r2.log_g")]
    assert by_r2 == sorted(by_r2, reverse=True)  # higher is better
    by_alpha = [r["params"]["model.alpha"] for r in _json(capsys, "runs", "--json", "--sort", "model.alpha")]
    assert by_alpha == [100.0, 100.0, 1000.0, 3000.0, 10000.0]
    assert main(["runs", "--sort", "mae.log_g"]) == 0
    table = [line.split("│")[2].strip() for line in capsys.readouterr().out.splitlines() if "EXP-" in line]
    assert table[0] == "ridge-a1e2" and table[-1] == "ridge-a1e4"


def test_runs_of_some_paths_only(nb, capsys):
    records = _json(capsys, "runs", OTHER, "--json")
    assert {r["report"] for r in records} == {"EXP-OTHER"} and len(records) == 2
    assert len(_json(capsys, "runs", "research/scaling", "--json")) == 5


def test_runs_bad_input_is_exit_2_naming_what_there_is(nb, capsys):
    before = tree_digest(nb)
    assert main(["runs", "--sort", "mea.log_g"]) == 2
    err = capsys.readouterr().err
    assert "--sort" in err and "mea.log_g" in err and "did you mean 'mae.log_g'?" in err and "Traceback" not in err
    assert main(["runs", "--sort", "colour"]) == 2
    err = capsys.readouterr().err
    assert "r2.log_g" in err and "model.alpha" in err  # what one can sort by
    assert main(["runs", "--json", "--csv"]) == 2
    assert "choose one" in capsys.readouterr().err
    assert main(["runs", "research/nowhere"]) == 2
    assert "research/nowhere: no such file or folder" in capsys.readouterr().err
    assert tree_digest(nb) == before


# --- research show ----------------------------------------------------------------------------


def test_show_prints_verdict_results_binned_tables_key_numbers_and_figures(nb, capsys):
    assert main(["show", BASELINES]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{BASELINES} — EXP-BASE: ridge α")
    assert "verdict: ✅ pass — a lighter penalty wins" in out
    assert "best: ridge-a1e2 · baseline: ridge-a1e4 · primary metric: r2.log_g" in out
    assert "mae.log_g by T_eff" in out and "4000–5000" in out and "std of bin means" in out
    assert "best log g R²" in out
    assert "research/scaling/exp/img/EXP-BASE.png" in out and "missing" not in out
    recorded = {t["name"]: t for t in _recorded(nb, BASELINES)["trials"]}
    assert f"{recorded['ridge-a1e3']['metrics']['r2.log_g']:.4f}" in out


def test_show_paths_are_relative_to_the_current_directory(nb, capsys, monkeypatch):
    monkeypatch.chdir(nb / "research")
    shown = _json(capsys, "show", "scaling/exp/exp_baselines.md", "--json")
    assert shown["path"] == "scaling/exp/exp_baselines.md"
    assert shown["figures"] == [
        {"path": "scaling/exp/img/EXP-BASE.png", "exists": True, "caption": "r2.log_g, mae.log_g per trial"}
    ]
    (table,) = shown["binned"]
    assert table["title"] == "mae.log_g by T_eff"
    assert table["columns"] == ["T_eff bin", "n", "ridge-a1e2", "ridge-a1e3", "ridge-a1e4"]
    assert [row[0] for row in table["rows"]] == ["4000–5000", "5000–6000", "std of bin means"]
    assert shown["key_numbers"][0]["label"] == "best log g R²" and shown["verdict"] == "pass"


def test_show_of_a_file_that_is_not_a_report_is_exit_2(nb, capsys):
    (nb / "notes.md").write_text("# just notes\n", encoding="utf-8")
    try:
        assert main(["show", "notes.md"]) == 2
        err = capsys.readouterr().err
        assert "notes.md: is not an experiment report" in err and BASELINES in err  # names the reports there are
        assert main(["show", "research/none.md"]) == 2
        assert "research/none.md: no such file" in capsys.readouterr().err
    finally:
        (nb / "notes.md").unlink()


# --- research diff ----------------------------------------------------------------------------


def test_diff_of_two_trials(nb, capsys):
    assert main(["diff", f"{BASELINES}#ridge-a1e4", f"{BASELINES}#ridge-a1e2"]) == 0
    out = capsys.readouterr().out
    assert f"{BASELINES}#ridge-a1e4 → {BASELINES}#ridge-a1e2" in out
    assert "model.alpha: 10000 → 100" in out and "better" in out and "%" in out
    changes = _json(capsys, "diff", f"{BASELINES}#ridge-a1e4", f"{BASELINES}#ridge-a1e2", "--json")
    (pair,) = changes["pairs"]
    assert pair["config"] == [{"key": "model.alpha", "old": 10000.0, "new": 100.0}]
    assert pair["inputs"] == [] and pair["same"] is False  # the same data and code
    recorded = {t["name"]: t["metrics"] for t in _recorded(nb, BASELINES)["trials"]}
    mae = next(m for m in pair["metrics"] if m["metric"] == "mae.log_g")
    old, new = recorded["ridge-a1e4"]["mae.log_g"], recorded["ridge-a1e2"]["mae.log_g"]
    assert (mae["old"], mae["new"]) == (old, new) and mae["better"] is True
    assert mae["change"] == pytest.approx(new - old, rel=1e-5) and mae["percent"] == pytest.approx(
        (new - old) / old * 100, rel=1e-5
    )
    r2 = next(m for m in pair["metrics"] if m["metric"] == "r2.log_g")
    assert r2["percent"] is None and r2["better"] is True and r2["change"] > 0  # R²: no percent


def test_diff_of_two_reports_pairs_trials_by_name(nb, capsys):
    changes = _json(capsys, "diff", BASELINES, OTHER, "--json")
    assert [(p["a"], p["b"]) for p in changes["pairs"]] == [("ridge-a1e2", "ridge-a1e2"), ("ridge-a1e3", "ridge-a1e3")]
    assert changes["only_a"] == ["ridge-a1e4"] and changes["only_b"] == []
    first, second = changes["pairs"]
    assert {c["key"]: (c["old"], c["new"]) for c in first["config"]} == {"data.n_train": (250, 150)}
    assert {c["key"]: (c["old"], c["new"]) for c in second["config"]} == {
        "data.n_train": (250, 150),
        "model.alpha": (3000.0, 1000.0),
    }
    assert {"key": "baseline", "old": "ridge-a1e4", "new": "ridge-a1e3"} in changes["report"]
    assert main(["diff", BASELINES, OTHER]) == 0
    out = capsys.readouterr().out
    assert "data.n_train: 250 → 150" in out and f"only in {BASELINES}: ridge-a1e4" in out


def test_diff_against_a_git_revision_shows_the_changed_key_and_what_it_did(nb, capsys):
    assert main(["diff", f"{BASELINES}@HEAD~1"]) == 0
    out = capsys.readouterr().out
    assert f"{BASELINES}@HEAD~1 → {BASELINES}" in out
    assert "ridge-a1e2: the same config and metrics" in out and "ridge-a1e4: the same config and metrics" in out
    assert "model.alpha: 1000 → 3000" in out and "worse" in out
    changes = _json(capsys, "diff", f"{BASELINES}@HEAD~1#ridge-a1e3", BASELINES, "--json")
    (pair,) = changes["pairs"]
    assert pair["config"] == [{"key": "model.alpha", "old": 1000.0, "new": 3000.0}]
    old_record = _recorded_at(nb, "HEAD~1")
    now = {t["name"]: t["metrics"] for t in _recorded(nb, BASELINES)["trials"]}
    mae = next(m for m in pair["metrics"] if m["metric"] == "mae.log_g")
    assert mae["old"] == old_record["ridge-a1e3"]["mae.log_g"] and mae["new"] == now["ridge-a1e3"]["mae.log_g"]
    assert mae["change"] > 0 and mae["better"] is False  # a heavier penalty: a larger error


def _recorded_at(root, revision):
    from engine.notebook.record import parse

    text = git.Repo(root).git.show(f"{revision}:{BASELINES}")
    return {t["name"]: t["metrics"] for t in parse(text)["trials"]}


def test_diff_bad_input_is_exit_2_naming_what_exists(nb, capsys):
    before, head = tree_digest(nb), git.Repo(nb).head.commit.hexsha
    assert main(["diff", f"{BASELINES}#ridge-a1e9", BASELINES]) == 2
    err = capsys.readouterr().err
    assert "no trial named 'ridge-a1e9'" in err and "did you mean 'ridge-a1e" in err
    assert main(["diff", f"{BASELINES}#nothing-alike", BASELINES]) == 2
    assert "its trials: ridge-a1e2, ridge-a1e3, ridge-a1e4" in capsys.readouterr().err
    assert main(["diff", f"{BASELINES}@no-such-branch"]) == 2
    err = capsys.readouterr().err
    assert "unknown revision 'no-such-branch'" in err and head[:7] in err and "Traceback" not in err
    assert main(["diff", f"{BASELINES}@HEAD~9"]) == 2
    assert "unknown revision 'HEAD~9'" in capsys.readouterr().err
    assert main(["diff", f"{BASELINES}@HEAD~3"]) == 2  # the first commit: before any run
    assert "no run record to compare" in capsys.readouterr().err
    assert main(["diff", BASELINES]) == 2
    assert "give two things to compare" in capsys.readouterr().err
    assert tree_digest(nb) == before and git.Repo(nb).head.commit.hexsha == head and not git.Repo(nb).is_dirty()


# --- the Python API ----------------------------------------------------------------------------


def test_the_api_returns_what_the_commands_print(nb, capsys):
    notebook = Notebook(nb / "research")  # found from inside, as the CLI finds it
    assert notebook.root == nb.resolve()
    reports = notebook.reports()
    assert [(r["id"], r["status"], r["verdict"], r["stale"]) for r in reports] == [
        ("EXP-BASE", "done", "pass", False),
        ("EXP-OTHER", "done", "pass", False),
    ]
    assert reports[0]["path"] == BASELINES and reports[0]["title"] == "ridge α"
    assert reports[0]["trials"] == ["ridge-a1e2", "ridge-a1e3", "ridge-a1e4"]
    assert notebook.trials(sort="mae.log_g") == _json(capsys, "runs", "--json", "--sort", "mae.log_g")
    assert notebook.show(BASELINES) == _json(capsys, "show", BASELINES, "--json")
    assert notebook.diff(f"{BASELINES}@HEAD~1") == _json(capsys, "diff", f"{BASELINES}@HEAD~1", "--json")
    assert [r["trial"] for r in notebook.trials(OTHER)] == ["ridge-a1e2", "ridge-a1e3"]  # one path, or several
    rows = notebook.results([OTHER])
    assert [r["trial"] for r in rows] == ["ridge-a1e2", "ridge-a1e3"]
    assert all(list(r) == list(rows[0]) for r in rows) and rows[0]["model.alpha"] == 100.0
    with pytest.raises(ResearchError, match="unknown revision 'v9'"):
        notebook.diff(f"{BASELINES}@v9")


def test_a_fresh_clone_reads_the_configs_from_the_spec(nb, tmp_path, monkeypatch):
    clone = tmp_path / "clone"
    git.Repo(nb).clone(clone)  # no run store: the configs come from each version's own spec
    assert not (clone / ".research").exists()
    monkeypatch.chdir(clone)
    notebook = Notebook()
    assert [r["params"] for r in notebook.trials([BASELINES])] == [
        {"model.alpha": 100.0},
        {"model.alpha": 3000.0},
        {"model.alpha": 10000.0},
    ]
    (pair,) = notebook.diff(f"{BASELINES}@HEAD~1#ridge-a1e3")["pairs"]
    assert pair["config"] == [{"key": "model.alpha", "old": 1000.0, "new": 3000.0}]


def test_dataframe_with_pandas(nb):
    pytest.importorskip("pandas")
    frame = Notebook().dataframe(sort="mae.log_g")
    assert list(frame.columns[:4]) == ["report", "trial", "model", "model.alpha"] and len(frame) == 5
    assert list(frame["mae.log_g"]) == sorted(frame["mae.log_g"])


def test_dataframe_without_pandas_says_how_to_get_it(nb):
    try:
        import pandas  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("pandas is installed here")
    with pytest.raises(ImportError, match="pip install pandas"):
        Notebook().dataframe()


def test_the_api_and_runs_load_no_ml_library(nb):
    code = (
        "import sys\nfrom engine import Notebook\nNotebook().trials()\n"
        "from engine.cli import main\nmain(['runs'])\nprint(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=nb,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ).stdout
    loaded = set(out.split())
    assert "engine.browse.api" in loaded and "ridge-a1e3" in out
    assert not {name for name in ("torch", "lightgbm", "matplotlib", "ray", "sklearn", "h5py") if name in loaded}


def _readme_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python API") :]
    section = section[: section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_readme_python_example_runs(nb, capsys):
    blocks = _readme_blocks()
    assert len(blocks) == 2 and "from engine import Notebook" in blocks[0]
    exec(compile(blocks[0], "README.md (Python API)", "exec"), {})
    out = capsys.readouterr().out
    assert "EXP-BASE done pass" in out
    assert "ridge-a1e3 model.alpha 1000.0 → 3000.0" in out
    assert re.search(r"ridge-a1e3 mae\.log_g [\d.]+ → [\d.]+ [\d.]+ [\d.]+", out)  # a larger error, in %


def test_the_readme_pandas_example_runs(nb, capsys):
    pytest.importorskip("pandas")
    first, second = _readme_blocks()
    scope: dict = {}
    exec(compile(first, "README.md (Python API)", "exec"), scope)
    exec(compile(second, "README.md (Python API, pandas)", "exec"), scope)
    assert "model.alpha" in capsys.readouterr().out
