"""The one `Report`: the catalog reads its light fields and never the spec; `load_report` validates
at once; a report the catalog's cache knows is not read again until something asks for more."""

import json

import pytest

from engine.errors import SpecError
from engine.notebook import experiments
from engine.notebook.report import Report, load_report, read_report

RECORD = {
    "verdict": "pass",
    "primary": "r2.log_g",
    "best": "a",
    "trials": [{"name": "a", "metrics": {"r2.log_g": 0.8}}],
}
REPORT = f"""\
---
id: EXP-1
title: ridge alpha
status: done
hub: ../hub.md
data: {{source: synthetic, targets: [log_g]}}
model: {{type: ridge, alpha: 1.0}}
metrics: [r2.log_g]
---
# report

<!-- research:record -->
```json
{json.dumps(RECORD)}
```
<!-- /research:record -->
"""


def test_the_catalog_reads_its_fields_and_never_the_spec(tmp_path):
    path = tmp_path / "exp.md"
    path.write_text(REPORT.replace("metrics:", "metricz:"), encoding="utf-8")
    report = read_report(path, tmp_path)
    assert report is not None and report.problem is None
    assert (report.id, report.status, report.verdict, report.meta["title"]) == ("EXP-1", "done", "pass", "ridge alpha")
    assert report.record == RECORD and report.primary_value() == 0.8
    assert report.pages == {"hub": tmp_path.parent / "hub.md"}
    assert "spec" not in vars(report)  # the misspelled key is not the catalog's to see
    with pytest.raises(SpecError, match="did you mean 'metrics'"):
        _ = report.spec
    with pytest.raises(SpecError, match="did you mean 'metrics'"):
        load_report(path)


def test_a_file_without_an_id_is_no_report_and_broken_front_matter_is_one_with_its_problem(tmp_path):
    plain = tmp_path / "notes.md"
    plain.write_text("---\ntitle: notes\n---\n# notes\n", encoding="utf-8")
    assert read_report(plain) is None
    broken = tmp_path / "broken.md"
    broken.write_text("---\nid: [EXP\n---\n", encoding="utf-8")
    report = read_report(broken)
    assert report is not None and report.id == "broken" and "not valid YAML" in (report.problem or "")
    assert report.stale_reasons() == [report.problem]
    with pytest.raises(SpecError, match="has no front matter spec"):
        _ = Report(tmp_path / "x.md", "# no front matter\n").spec


def test_a_report_the_cache_knows_is_listed_without_reading_its_text(tmp_path):
    (tmp_path / ".research").mkdir()
    path = tmp_path / "exp.md"
    path.write_text(REPORT, encoding="utf-8")
    first = experiments.scan(tmp_path)
    again = experiments.scan(tmp_path)
    assert [r.id for r in again] == [r.id for r in first] == ["EXP-1"]
    cached = again[0]
    assert "text" not in vars(cached)
    assert cached.record == RECORD and cached.spec_digest == first[0].spec_digest
    assert cached.stale_reasons() == first[0].stale_reasons()
    assert cached.front.text == first[0].front.text  # read now, on demand
    assert "text" in vars(cached)


def test_with_spec_carries_another_spec_and_leaves_the_report_as_it_was(tmp_path):
    path = tmp_path / "exp.md"
    path.write_text(REPORT, encoding="utf-8")
    report = load_report(path)
    swept = report.with_spec(report.spec.with_sweep({"model.alpha": [1.0, 2.0]}))
    assert swept.spec is not report.spec and swept.text == report.text and swept.path == report.path
    assert len(swept.spec.resolve_trials()) == 2 and len(report.spec.resolve_trials()) == 1


def test_a_report_answering_one_question_names_it_whole(tmp_path):
    """`answers: Q3.1` (one id, as the spec allows) is one question — for the hub's sync as for
    the digest — not the characters Q, 3, ., 1."""
    from engine.notebook.report import Report

    one = tmp_path / "one.md"
    one.write_text("---\nid: A\nanswers: Q3.1\n---\n", encoding="utf-8")
    many = tmp_path / "many.md"
    many.write_text("---\nid: B\nanswers: [Q3.1, Q3.2]\n---\n", encoding="utf-8")
    assert Report(one).answers == ["Q3.1"]
    assert Report(many).answers == ["Q3.1", "Q3.2"]
