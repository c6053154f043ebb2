"""A rule or key number that meets an empty bin: refused before training when the spec says so,
else an inconclusive verdict that says why; one std (n − 1) for the table's spread and `std()`;
and whatever stops a run after training leaves the report `failed`, never `running`."""

from __future__ import annotations

import re
import statistics

import pytest
from conftest import NOTEBOOK_REPORT, tree_digest

from engine.cli import main
from engine.text import document

REPORT = "research/x/exp/exp_bins.md"
BINNED_REGION = "\n<!-- research:binned -->\n<!-- /research:binned -->\n"


def report(binned: str, rules: str, numbers: str = "", data: str = "n_test: 100") -> str:
    return f"""\
---
id: EXP-BINS
title: bins
status: planned
data: {{source: synthetic, n_train: 300, {data}, targets: [log_g]}}
model: {{type: ridge, alpha: 100}}
trials:
  base: {{model.alpha: 1.0e+6}}
  cand: {{}}
metrics: [r2.log_g, mae.log_g]
binned:
  - {binned}
decision:
  baseline: base
  rules:
    - when: "{rules}"
      verdict: pass
      says: flat
    - otherwise: fail
      says: not flat
{numbers}---
# bins

<!-- research:summary -->
<!-- /research:summary -->

<!-- research:results -->
<!-- /research:results -->
{BINNED_REGION}
<!-- research:key-numbers -->
<!-- /research:key-numbers -->

<!-- research:record -->
<!-- /research:record -->
"""


@pytest.mark.parametrize(
    "binned, rule, numbers, data, said",
    [
        # every bin below the generator's T_eff range (3750–6000 K): no test spectrum can fall in any
        (
            "{metric: mae.log_g, by: T_eff, edges: [1000, 2000, 3000]}",
            "std(binned[0]['cand']) < 1",
            "",
            "n_test: 100",
            "binned[0].cand has no bin with enough spectra (bin 1000–2000 lies outside the test set's T_eff range 3750–6000",
        ),
        # one bin left of three: std() (n − 1) needs two
        (
            "{metric: mae.log_g, by: T_eff, edges: [1000, 2000, 3000, 6000]}",
            "std(binned[0]['cand']) < 1",
            "",
            "n_test: 100",
            "binned[0].cand has only 1 bin the table counts, and std() needs two",
        ),
        # a bin read by index that the test selection's ranges leave empty
        (
            "{metric: mae.log_g, by: T_eff, edges: [3750, 4000, 6000]}",
            "binned[0]['cand'][0] < 1",
            "",
            "n_test: 100, test_select: {ranges: {T_eff: [4000, 6000]}}",
            "binned[0].cand[0] has no value (bin 3750–4000 lies outside the test set's T_eff range 4000–6000",
        ),
        # a table of one bin: no spread to take
        (
            "{metric: mae.log_g, by: T_eff, edges: [3750, 6000]}",
            "std(binned[0]['cand']) < 1",
            "",
            "n_test: 100",
            "std() needs at least two numbers",
        ),
        # a test set smaller than min_n: no bin counts; a key number meets it
        (
            "{metric: mae.log_g, by: T_eff, edges: [3750, 4500, 6000]}",
            "best.r2.log_g > baseline.r2.log_g",
            "key_numbers:\n  - {label: lowest bin, value: \"min(binned[0]['cand'])\"}\n",
            "n_test: 20",
            "fewer than min_n = 30",
        ),
    ],
)
def test_a_rule_or_key_number_that_needs_an_empty_bin_is_refused_before_training(
    notebook, capsys, binned, rule, numbers, data, said
):
    path = notebook / REPORT
    path.parent.mkdir(parents=True)
    text = report(binned, rule, numbers, data)
    path.write_text(text, encoding="utf-8")
    before = tree_digest(notebook)

    assert main(["run", str(path), "--no-commit"]) == 2
    err = capsys.readouterr().err
    key = "key_numbers[0].value" if numbers else "decision.rules[0].when"
    line = next(i for i, row in enumerate(text.splitlines(), 1) if ('value: "min(' if numbers else "- when:") in row)
    assert f"{REPORT}:{line}: {key}: " in err and said in err, err
    assert "Traceback" not in err
    assert tree_digest(notebook) == before  # no file changed
    assert not (notebook / ".research" / "runs").exists() or not any((notebook / ".research" / "runs").iterdir())


def _with_bins(report_path, binned: str, rules: list[tuple[str, str]], numbers: str) -> None:
    """The small notebook's report with a binned table, its region, rules and key numbers (its
    trials stay cached: these keys only decide what is rendered)."""
    text = report_path.read_text(encoding="utf-8")
    decision = (
        "decision:\n  baseline: base\n  rules:\n"
        + "".join(f'    - when: "{when}"\n      verdict: {verdict}\n      says: {verdict}\n' for when, verdict in rules)
        + "    - otherwise: fail\n      says: otherwise\n"
    )
    text = re.sub(r"decision:\n.*?(?=key_numbers:)", lambda _: f"binned:\n  - {binned}\n" + decision, text, flags=re.S)
    text = re.sub(r"key_numbers:\n.*?(?=---\n)", lambda _: "key_numbers:\n" + numbers, text, count=1, flags=re.S)
    text = text.replace("<!-- research:figures -->", BINNED_REGION.strip() + "\n\n<!-- research:figures -->")
    report_path.write_text(text, encoding="utf-8")


def test_a_rule_that_reads_a_bin_too_small_after_training_is_inconclusive_and_says_why(small_notebook, capsys):
    _, path = small_notebook
    # 3750–3800 K holds about 2 % of the test set: fewer than min_n, known only once the rows are drawn
    _with_bins(
        path,
        "{metric: mae.log_g, by: T_eff, edges: [3750, 3800, 6000]}",
        [("binned[0]['cand'][0] < 1", "pass")],
        "  - {label: cand spread, value: \"std(binned[0]['cand'])\"}\n",
    )
    assert main(["check", str(path)]) == 0, capsys.readouterr()

    assert main(["run", str(path), "--no-commit"]) == 0, capsys.readouterr().err
    text = path.read_text(encoding="utf-8")
    assert re.search(r"^status: done", text, re.M)
    regions = document.regions(text)
    summary = regions["summary"].body
    assert "inconclusive" in summary and "cannot decide: rule 1" in summary
    assert re.search(
        r"binned\[0\]\.cand\[0\] has no value \(bin 3750–3800 has \d+ spectra, fewer than min_n = 30\)", summary
    )
    assert "n/a (binned[0].cand has only 1 bin the table counts" in regions["key-numbers"].body


def _column(table: str, header: str) -> int:
    rows = [r for r in table.splitlines() if r.startswith("|")]
    return [c.strip() for c in rows[0].split("|")].index(header)


def test_the_tables_spread_and_a_rules_std_are_one_number(small_notebook, capsys):
    _, path = small_notebook
    _with_bins(
        path,
        "{metric: mae.log_g, by: T_eff, edges: [3750, 4500, 5250, 6000], min_n: 5}",
        [("std(binned[0]['cand']) < 10", "pass")],
        "  - {label: cand spread, value: \"std(binned[0]['cand'])\", format: .6f}\n",
    )

    assert main(["run", str(path), "--no-commit"]) == 0, capsys.readouterr().err
    regions = document.regions(path.read_text(encoding="utf-8"))
    table = regions["binned"].body
    cand = _column(table, "cand")
    cells = {r.split("|")[1].strip(): r.split("|")[cand].strip() for r in table.splitlines() if r.startswith("| ")}
    bins = [float(cells[b].split()[0]) for b in ("3750–4500", "4500–5250", "5250–6000")]
    shown = float(cells["**std of bin means**"].split()[0])
    rule = float(re.search(r"\| cand spread \| ([0-9.]+)", regions["key-numbers"].body).group(1))
    assert abs(rule - shown) <= 5e-5  # the same number, to the table's 4 decimals
    assert abs(rule - statistics.stdev(bins)) < 2e-4 < abs(rule - statistics.pstdev(bins))  # the sample std (n − 1)
    assert "pass" in regions["summary"].body


def test_a_failure_after_training_leaves_the_report_failed_not_running(small_notebook, capsys, monkeypatch):
    import engine.render.reporting

    _, path = small_notebook

    def broken(*args, **kwargs):
        raise RuntimeError("the renderer broke")

    monkeypatch.setattr(engine.render.reporting, "render_report", broken)
    code = main(["run", str(path), "--retrain", "--trial", "cand", "--no-commit"])
    err = capsys.readouterr().err
    assert code != 0 and "the renderer broke" in err
    text = path.read_text(encoding="utf-8")
    assert re.search(r"^status: failed", text, re.M) and "status: running" not in text
    assert NOTEBOOK_REPORT.split("---\n", 2)[2] == text.split("---\n", 2)[2]  # the body: not a byte changed
