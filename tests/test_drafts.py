"""Drafts and `--no-propagate`: the report is written and committed, its pages keep every byte.

On the small git notebook (real Ridge trials, a real repository) with a roadmap added: a draft's
run — its trials trained again with `--retrain` — fills the report but leaves the hub, roadmap and
kanban as they were, and its status stays `draft`; `research sync` leaves it out; once promoted,
its next run (every trial cached) brings the pages up to date. A `--no-propagate` run of an
ordinary report writes the report only, and the next plain run writes the pages.
"""

from __future__ import annotations

import json

from conftest import REPORT_PATH, git

from engine.cli import main
from engine.text import document

ROADMAP = """\
# Roadmap

| MVP | 实验 | 目标 | 状态 | 结论 |
|-----|------|------|------|------|
| MVP-1 | ridge | beat the penalty | ⏳ | - |
"""
PAGES = ("hubs/hub.md", "hubs/roadmap.md", "hubs/kanban.md")


def prepare(root, report, status):
    """Link the report to a roadmap row and give it `status`; commit."""
    (root / "hubs/roadmap.md").write_text(ROADMAP, encoding="utf-8")
    text = report.read_text(encoding="utf-8")
    text = text.replace("status: planned\n", f"status: {status}\nmvp: MVP-1\nroadmap: ../../../hubs/roadmap.md\n", 1)
    report.write_text(text, encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "roadmap and a draft")


def pages(root):
    return {page: (root / page).read_bytes() for page in PAGES}


def status_of(report):
    return document.front_matter_values(report.read_text(encoding="utf-8"), ("status",))["status"]


def test_a_draft_run_writes_the_report_and_no_page_until_it_is_promoted(small_notebook, capsys):
    root, report = small_notebook
    prepare(root, report, "draft")
    before = pages(root)

    assert main(["run", str(report), "--retrain"]) == 0  # the trials train again
    assert pages(root) == before
    assert status_of(report) == "draft"
    text = report.read_text(encoding="utf-8")
    assert "ridge reaches R²" in document.regions(text)["summary"].body
    assert "ran base, cand" in document.regions(text)["log"].body
    committed = git(root, "show", "--name-only", "--format=%s", "HEAD").split()
    assert REPORT_PATH in committed and not any(page in committed for page in PAGES)
    assert git(root, "status", "--porcelain", "--", "hubs") == ""
    assert "hub, roadmap and kanban left as they are" in capsys.readouterr().out

    assert main(["run", str(report)]) == 0  # again: up to date, still a draft, still no page
    assert main(["sync"]) == 0  # sync leaves a draft out of every page
    assert pages(root) == before and status_of(report) == "draft"
    capsys.readouterr()
    assert main(["status", "--json"]) == 0
    assert [row["status"] for row in json.loads(capsys.readouterr().out)] == ["draft"]

    assert main(["promote", str(report)]) == 0
    assert status_of(report) == "planned"
    assert main(["run", str(report)]) == 0  # cached: now it propagates
    assert status_of(report) == "done"
    after = pages(root)
    assert all(after[page] != before[page] for page in PAGES)
    assert "✅ ridge reaches R²" in after["hubs/hub.md"].decode()
    assert "| MVP-1 | ridge | beat the penalty | ✅ | ridge reaches R²" in after["hubs/roadmap.md"].decode()
    assert "✅ done" in after["hubs/kanban.md"].decode()
    assert git(root, "status", "--porcelain") == ""


def test_no_propagate_writes_the_report_only_and_the_next_run_writes_the_pages(small_notebook):
    root, report = small_notebook
    prepare(root, report, "planned")
    before = pages(root)

    assert main(["run", str(report), "--no-propagate"]) == 0
    assert pages(root) == before
    assert status_of(report) == "done"
    assert "ridge reaches R²" in document.regions(report.read_text(encoding="utf-8"))["summary"].body

    assert main(["run", str(report)]) == 0  # every trial cached, the report up to date: the pages follow
    after = pages(root)
    assert all(after[page] != before[page] for page in PAGES)
    assert git(root, "status", "--porcelain") == ""


def test_a_hand_edit_in_a_page_does_not_stop_a_draft(small_notebook):
    root, report = small_notebook
    prepare(root, report, "draft")
    assert main(["run", str(report)]) == 0
    assert main(["promote", str(report)]) == 0
    assert main(["run", str(report)]) == 0  # the pages are written, their regions sealed
    hub = root / "hubs/hub.md"
    text = hub.read_text(encoding="utf-8").replace("<!-- /research:leaderboard", "my note\n<!-- /research:leaderboard")
    hub.write_text(text, encoding="utf-8")
    report.write_text(report.read_text(encoding="utf-8").replace("status: done", "status: draft"), encoding="utf-8")
    assert (
        main(["run", str(report), "--set", "model.alpha=50"]) == 0
    )  # a new trial, and the hub's edit is not in the way
    assert hub.read_text(encoding="utf-8") == text


def test_new_draft_and_promote_refuses_what_is_not_a_draft(notebook, capsys):
    assert main(["new", "exp", "t", "idea", "--draft"]) == 0
    path = notebook / "research/t/exp/exp_t_idea.md"
    assert status_of(path) == "draft"
    assert main(["promote", str(path)]) == 0
    before = path.read_bytes()
    assert main(["promote", str(path)]) == 2
    assert "is not a draft (its status is 'planned')" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_promote_refuses_a_page_that_is_not_a_report(small_notebook, capsys):
    from engine.cli import main

    root, _ = small_notebook
    before = (root / "hubs/kanban.md").read_text(encoding="utf-8")
    assert main(["promote", str(root / "hubs/kanban.md")]) == 2
    err = capsys.readouterr().err
    assert "is not an experiment report" in err and "not a draft" not in err
    assert (root / "hubs/kanban.md").read_text(encoding="utf-8") == before
