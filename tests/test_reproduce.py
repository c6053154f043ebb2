"""Numbers you can trust: a re-run with the record's keys is a reproduction, and "best" is honest.

A notebook copied without its run store (a fresh clone) retrains, finds every number within
tolerance of the report's record, and changes no byte and commits nothing. A record that says
otherwise for one trial (as another machine's would) makes that trial, and only that one,
"not reproduced", with the numbers that moved. A candidate that loses to the baseline is never
crowned: the summary, the results table, the hub and the commit message say so.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest
from conftest import REPORT_BODY, git, git_notebook, tree_digest

from engine.cli import main
from engine.notebook import record
from engine.text import document


def run_as_a_fresh_clone(root, report, capsys) -> str:
    """`research run` with no run store, cache or index (as on a fresh clone); what it printed."""
    shutil.rmtree(root / ".research")
    capsys.readouterr()
    assert main(["run", str(report)]) == 0
    return capsys.readouterr().out


def run_and_commit(root, report):
    assert main(["run", str(report)]) == 0
    assert git(root, "status", "--porcelain") == ""


def test_a_notebook_without_its_run_store_reproduces_its_record_and_changes_nothing(small_notebook, capsys):
    root, report = small_notebook
    run_and_commit(root, report)
    head = git(root, "rev-parse", "HEAD")
    before = tree_digest(root)
    out = run_as_a_fresh_clone(root, report, capsys)
    assert "(new)" in out and "reproduced: 2 trials, largest change" in out and "nothing to commit" in out
    assert tree_digest(root) == before and git(root, "rev-parse", "HEAD") == head
    assert main(["run", str(report)]) == 0
    assert "up to date" in capsys.readouterr().out


def _edit_record(report, trial: str, change) -> dict:
    """Make the report's record say what another machine might have measured for one trial:
    `change(row)` edits its row in place; the row as it was."""
    text = report.read_text(encoding="utf-8")
    rec = record.parse(text)
    row = next(r for r in rec["trials"] if r["name"] == trial)
    before = json.loads(json.dumps(row))
    change(row)
    report.write_text(document.replace_regions(text, {record.REGION: record.render(rec)}), encoding="utf-8")
    return before


def _tamper(report, trial: str, metric: str, factor: float) -> None:
    _edit_record(report, trial, lambda row: row["metrics"].update({metric: row["metrics"][metric] * factor}))


def test_a_record_that_disagrees_is_not_reproduced_for_that_trial_only(small_notebook, capsys):
    root, report = small_notebook
    run_and_commit(root, report)
    _tamper(report, "cand", "mae.log_g", 1.2)
    git(root, "commit", "-qam", "another machine's record")
    out = run_as_a_fresh_clone(root, report, capsys)
    moved = [line for line in out.splitlines() if "not reproduced:" in line]
    assert len(moved) == 1 and "cand mae.log_g" in moved[0] and "→" in moved[0] and "standard errors" in moved[0]
    log = document.regions(report.read_text(encoding="utf-8"))["log"].body
    assert "not reproduced: cand mae.log_g" in log and "base" not in log.split("not reproduced:")[1]
    assert git(root, "status", "--porcelain") == ""  # the new numbers are written and committed


def test_research_reproduce_compares_without_writing(small_notebook, capsys):
    root, report = small_notebook
    run_and_commit(root, report)
    before = tree_digest(root)
    assert main(["reproduce", str(report)]) == 0
    assert "reproduced: 2 trials" in capsys.readouterr().out
    _tamper(report, "base", "mae.log_g", 1.2)
    tampered = tree_digest(root)
    assert main(["reproduce", str(report)]) == 1
    out = capsys.readouterr().out
    assert "not reproduced: base mae.log_g" in out and "cand" not in out.split("not reproduced:")[1]
    assert tree_digest(root) == tampered != before


def test_a_tolerance_in_the_spec_is_obeyed(small_notebook, capsys):
    root, report = small_notebook
    run_and_commit(root, report)
    _tamper(report, "cand", "mae.log_g", 1.05)
    git(root, "commit", "-qam", "a small disagreement")
    assert main(["reproduce", str(report)]) == 1
    capsys.readouterr()
    text = report.read_text(encoding="utf-8").replace("key_numbers:", "reproduce: {tolerance: 50}\nkey_numbers:")
    report.write_text(text, encoding="utf-8")
    assert main(["reproduce", str(report)]) == 0
    assert "reproduced: 2 trials" in capsys.readouterr().out


def test_a_candidate_that_loses_to_the_baseline_is_not_crowned(small_notebook, capsys):
    root, report = small_notebook
    text = report.read_text(encoding="utf-8")
    report.write_text(
        text.replace("base: {model.alpha: 1.0e+6}", "base: {model.alpha: 100}").replace(
            "  cand: {}", "  cand: {model.alpha: 1.0e+6}"
        ),
        encoding="utf-8",
    )
    git(root, "commit", "-qam", "the candidate is worse")
    assert main(["run", str(report)]) == 0
    text = report.read_text(encoding="utf-8")
    regions = document.regions(text)
    assert "No candidate beats the baseline" in regions["summary"].body
    assert "🥇" not in regions["results"].body and "No candidate beats the baseline" in regions["results"].body
    values = re.findall(r"\d\.\d{4}", regions["summary"].body)
    assert len(values) == 2  # both numbers
    hub = (root / "hubs/hub.md").read_text(encoding="utf-8")
    message = git(root, "log", "-1", "--format=%s")
    assert "no candidate beats the baseline" in message and "cand" in message
    rec = record.parse(text)
    assert rec["standing"]["beats_baseline"] is False
    assert "EXP-NB" in hub


def test_a_reference_that_beats_every_candidate_is_named_and_a_beaten_ceiling_flagged():
    from engine.render.decision import standing

    results = {
        "global": {"r2": {"log_g": 0.71}},
        "moe-a": {"r2": {"log_g": 0.65}},
        "moe-b": {"r2": {"log_g": 0.60}},
        "ceiling": {"r2": {"log_g": 0.62}},
    }
    place = standing(results, "r2.log_g", baseline="moe-b", references=["global", "ceiling"], ceilings=["ceiling"])
    assert place.best == "moe-a" and place.beats_baseline is True
    assert place.references_beating == (("global", 0.71),)
    assert place.ceilings_beaten == (("ceiling", 0.62),)
    assert json.dumps(place.as_dict())


def test_a_bin_with_too_few_spectra_is_marked_and_left_out_of_the_spread_and_the_rules():
    import math

    import numpy as np

    from engine.render.binned import binned_table
    from engine.render.regions import shown_binned
    from engine.render.templates import render
    from engine.spec import Binned

    rng = np.random.default_rng(0)
    snr = np.concatenate([rng.uniform(0.5, 6.5, 500), [40.0]])  # one spectrum in the open bin > 7
    truth = rng.normal(3, 1, len(snr))
    preds = {
        name: {
            "targets": np.array([b"log_g"]),
            "y_true": truth[:, None],
            "y_pred": (truth + rng.normal(0, s, len(snr)))[:, None],
            "param.snr": snr,
            "index": np.arange(len(snr)),
        }
        for name, s in (("a", 0.3), ("b", 0.5))
    }
    spec = Binned(metric="mae.log_g", by="snr", edges=[0, 2, 4, 7, 1e9])
    table = binned_table(spec, preds)
    assert table["small"] == [False, False, False, True] and table["rows"][3]["n"] == 1
    assert math.isnan(table["series"]["a"][3]) and not math.isnan(table["values"]["a"][3])
    kept = [v for v in table["values"]["a"][:3]]
    assert table["spread_values"]["a"] == pytest.approx(np.std(kept, ddof=1))  # the sample std, as a rule's std()
    assert table["centers"][3] == 40.0  # the open bin where its spectra are, not at 5e8
    body = render("regions/binned.md.j2", None, tables=[shown_binned(table)])
    assert "| 1 † |" in body and "fewer than 30 spectra" in body and "(0." in body.split("| 1 † |")[1].split("\n")[0]


# ---------------------------------------------------------------------------------------------
# Repeated trials of a seeded model: judged by their training noise, not the test set's error


SEEDED_REPORT = (
    """\
---
id: EXP-SEEDED
title: two seeded fits
hub: ../../../hubs/hub.md
answers: [Q1.1]
data: {source: synthetic, n_train: 600, n_test: 300, targets: [log_g]}
noise: {level: 1.0}
model: {type: "seeded:make", noise: 0.3}
train: {seed: 42}
repeats: 5
trials:
  a: {}
  b: {model.noise: 0.1}
metrics: [mae.log_g, r2.log_g]
decision:
  baseline: a
  rules:
    - when: trials.b.mae.log_g < trials.a.mae.log_g
      verdict: pass
      says: b is better
    - otherwise: fail
      says: b is not better
key_numbers:
  - {label: a log g MAE, value: trials.a.mae.log_g}
---
"""
    + REPORT_BODY
)


@pytest.fixture
def seeded_notebook(tmp_path, monkeypatch):
    from conftest import SEEDED_PLUGIN

    root = git_notebook(
        tmp_path / "nb",
        {
            "seeded.py": SEEDED_PLUGIN,
            "research/s/exp/exp_seeded.md": SEEDED_REPORT,
            "hubs/hub.md": "# Hub\n\n```\nQ1: fits\n├── Q1.1: is b better? → ⏳ MVP-1\n```\n",
        },
    )
    monkeypatch.chdir(root)
    return root, root / "research/s/exp/exp_seeded.md"


def _move_mean(report, trial: str, metric: str, seed_sds: float) -> tuple[float, float]:
    """The record's seed mean of one trial moved by `seed_sds` of its seeds' standard deviation;
    (that sd, the test-set standard error)."""
    row = _edit_record(
        report, trial, lambda r: r["metrics"].update({metric: r["metrics"][metric] + seed_sds * r["std"][metric]})
    )
    return row["std"][metric], row["se"][metric]


def test_a_move_inside_the_seed_spread_is_a_reproduction_though_it_is_many_test_set_errors(seeded_notebook, capsys):
    root, report = seeded_notebook
    run_and_commit(root, report)
    sd, se = _move_mean(report, "a", "mae.log_g", 0.8)
    assert 0.8 * sd > 0.25 * se  # the test set's yardstick would call this "not reproduced"
    git(root, "commit", "-qam", "another machine's record")
    head, before = git(root, "rev-parse", "HEAD"), tree_digest(root)
    out = run_as_a_fresh_clone(root, report, capsys)
    assert "reproduced: 2 trials (10 runs), largest change: a mae.log_g" in out and "spreads of its 5-seed mean" in out
    assert "nothing to commit" in out and "not reproduced" not in out
    assert tree_digest(root) == before and git(root, "rev-parse", "HEAD") == head


def test_a_move_of_four_seed_spreads_is_not_reproduced_and_named(seeded_notebook, capsys):
    root, report = seeded_notebook
    run_and_commit(root, report)
    _move_mean(report, "a", "mae.log_g", 4.0)
    git(root, "commit", "-qam", "a record four seed spreads away")
    out = run_as_a_fresh_clone(root, report, capsys)
    moved = [line for line in out.splitlines() if "not reproduced:" in line]
    assert len(moved) == 1 and "a mae.log_g" in moved[0] and "spreads of its 5-seed mean" in moved[0], out
    assert "tolerance" in moved[0] and "b " not in moved[0].split("not reproduced:")[1]
    log = document.regions(report.read_text(encoding="utf-8"))["log"].body
    assert "not reproduced: a mae.log_g" in log
    assert git(root, "status", "--porcelain") == ""  # the new numbers written and committed


def test_the_seed_tolerance_keeps_false_alarms_at_the_stated_rate():
    """A correct re-run is a fresh draw of k seeds: the change of the mean, in spreads of the
    k-seed mean (sd pooled over both draws), exceeds the tolerance for one comparison of m with
    probability false_alarm / m."""
    import numpy as np

    from engine.run.reproduce import seed_tolerance

    rng = np.random.default_rng(0)
    k, m, alarm = 5, 4, 0.2  # a large rate, so that a few thousand draws measure it
    limit = seed_tolerance(k, m, alarm)
    old, new = rng.normal(0, 1, (20000, k)), rng.normal(0, 1, (20000, k))
    pooled = np.sqrt((old.var(axis=1, ddof=1) + new.var(axis=1, ddof=1)) / 2)
    change = np.abs(new.mean(axis=1) - old.mean(axis=1)) / (pooled / np.sqrt(k))
    assert np.mean(change > limit) == pytest.approx(alarm / m, abs=0.006)
    assert seed_tolerance(5, 16, 0.01) < 4 * np.sqrt(5)  # four seed sds are beyond it: caught


def test_the_store_holding_other_numbers_for_the_reports_keys_changes_no_page(seeded_notebook, capsys):
    """One number, one truth: the store of another machine (its numbers for the same keys within
    tolerance of the report's record) neither rewrites the report nor puts its numbers on a page."""
    root, report = seeded_notebook
    run_and_commit(root, report)
    before = tree_digest(root)
    head = git(root, "rev-parse", "HEAD")
    recorded = record.parse(report.read_text(encoding="utf-8"))
    runs = root / ".research" / "runs"
    for stored in runs.rglob("record.json"):  # this machine's store: every number a little off
        data = json.loads(stored.read_text(encoding="utf-8"))
        data["metrics"]["mae"]["log_g"] *= 1.001
        stored.write_text(json.dumps(data), encoding="utf-8")
    shutil.rmtree(root / ".research" / "reports")  # and no memory of what it rendered
    capsys.readouterr()
    assert main(["run", str(report)]) == 0
    out = capsys.readouterr().out
    assert "the run store's results for the report's keys" in out and "nothing to commit" in out
    assert tree_digest(root) == before and git(root, "rev-parse", "HEAD") == head
    assert main(["sync"]) == 0 and tree_digest(root) == before
    assert main(["runs", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    a = next(r for r in rows if r["trial"] == "a")
    assert a["metrics"]["mae.log_g"] == next(t for t in recorded["trials"] if t["name"] == "a")["metrics"]["mae.log_g"]
