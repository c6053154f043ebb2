"""`research cache info|clear` on the small git notebook: real trials, real synthetic sets.

The report runs twice — once with `--set model.alpha=7` (a trial its record will not name), then
as written (its record names `base` and `cand`) — so the run store holds trials a record refers
to and one it does not. `clear` empties the synthetic cache; `--runs` removes only the orphan;
`--all` every trial; a git-tracked file under `.research/` is never touched; nothing is removed
without confirmation or while a run is going on.
"""

from __future__ import annotations

import io
import shutil

import pytest
from conftest import REPORT_PATH, git, tree_digest

from engine.cli import main
from engine.notebook import cache, locks


def trial_keys(root):
    return sorted(p.name for p in (root / ".research/runs").glob("??/*") if p.is_dir())


def synthetic_sets(root):
    return sorted(p.name for p in (root / ".research/cache/synthetic").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def _ran(_template_notebook, tmp_path_factory):
    root = tmp_path_factory.mktemp("cache") / "nb"
    shutil.copytree(_template_notebook, root, symlinks=True)
    report = root / REPORT_PATH
    assert main(["run", str(report), "--set", "model.alpha=7", "--no-commit"]) == 0
    git(root, "checkout", "-q", "--", ".")
    assert main(["run", str(report)]) == 0
    return root


@pytest.fixture
def ran(_ran, tmp_path, monkeypatch):
    """(root, report): the notebook after both runs; three trials stored, two named by the record."""
    root = tmp_path / "nb"
    shutil.copytree(_ran, root, symlinks=True)
    monkeypatch.chdir(root)
    return root, root / REPORT_PATH


def test_info_lists_sizes_counts_and_the_largest(ran, capsys):
    root, _ = ran
    capsys.readouterr()
    assert main(["cache", "info", "--top", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    sets, keys = synthetic_sets(root), trial_keys(root)
    assert out[0].startswith("synthetic cache: ") and out[0].endswith(
        f", {len(sets)} entries" if len(sets) > 1 else ", 1 entry"
    )
    largest = max(sets, key=lambda s: cache.disk_size(root / ".research/cache/synthetic" / s))
    assert out[1].endswith(f"  {largest}")
    assert out[2].startswith("run store: ") and out[2].endswith(f", {len(keys)} entries") and len(keys) == 3
    assert " MB" in out[0] or " kB" in out[0]


def test_clear_runs_keeps_what_a_record_names_and_anything_git_tracks(ran, capsys):
    root, report = ran
    named = set(cache.referenced_keys(root))
    assert len(named) == 2 and len(trial_keys(root)) == 3
    kept = root / ".research/cache/mine.txt"
    kept.write_text("tracked on purpose\n", encoding="utf-8")
    git(root, "add", "-f", str(kept))
    git(root, "commit", "-qm", "a tracked file under .research")
    tree = tree_digest(root)

    assert main(["cache", "clear", "--runs", "--yes"]) == 0
    assert synthetic_sets(root) == []
    assert set(trial_keys(root)) == named
    assert kept.read_text(encoding="utf-8") == "tracked on purpose\n"
    assert tree_digest(root) == tree

    capsys.readouterr()
    assert main(["run", str(report)]) == 0  # the named trials are still stored: nothing trains
    assert "up to date" in capsys.readouterr().out
    assert tree_digest(root) == tree


def test_clear_asks_first_and_all_empties_the_run_store(ran, monkeypatch, capsys):
    root, report = ran
    before = (synthetic_sets(root), trial_keys(root))
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    assert main(["cache", "clear", "--all"]) == 1
    assert "nothing removed" in capsys.readouterr().out
    assert (synthetic_sets(root), trial_keys(root)) == before

    with locks.live_run(root, "EXP-OTHER"):  # a run going on: nothing is removed
        assert main(["cache", "clear", "--all", "--yes"]) == 2
    assert "a `research run` is going on" in capsys.readouterr().err
    assert (synthetic_sets(root), trial_keys(root)) == before

    tree = tree_digest(root)
    assert main(["cache", "clear", "--all", "--yes"]) == 0
    assert synthetic_sets(root) == [] and trial_keys(root) == [] and not (root / ".research/runs/experts").exists()
    assert tree_digest(root) == tree


def test_a_root_that_is_not_a_notebook_is_refused_and_nothing_is_removed(small_notebook, tmp_path, capsys):
    """`--root` names the notebook to clear: a folder that is not one (or no folder at all) is bad
    input — never the notebook that holds the current directory in its place."""
    root, _ = small_notebook
    other = tmp_path / "not_a_notebook"
    other.mkdir()
    before = sorted(p.relative_to(root) for p in (root / ".research").rglob("*"))
    for given in (other, tmp_path / "no" / "such" / "folder", root / "hubs" / "hub.md"):
        assert main(["cache", "clear", "--all", "--yes", "--root", str(given)]) == 2
        assert main(["cache", "info", "--root", str(given)]) == 2
    err = capsys.readouterr().err
    assert "is not a notebook's root" in err and "no such folder" in err and "is a file, not a folder" in err
    assert sorted(p.relative_to(root) for p in (root / ".research").rglob("*")) == before
    assert main(["cache", "info", "--root", str(root)]) == 0
    assert main(["new", "exp", "t", "x", "--root", str(tmp_path / "missing")]) == 2
