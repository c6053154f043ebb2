"""`research new`: pages are born with a valid spec, sealed regions and working links."""

import datetime as dt

import pytest
import yaml

from engine.browse.check import check_paths
from engine.cli import main
from engine.errors import DocumentError, TemplateError
from engine.pages import scaffold
from engine.text import document

DAY = dt.date(2026, 1, 5)


def test_a_new_report_has_a_spec_regions_and_relative_links(notebook):
    page = scaffold.new_experiment(
        "logg_1m", "multitask", root=notebook, hub="hubs/logg_1m_hub.md", mvp="MVP-1.5", author="me", date=DAY
    )
    assert page.path == notebook / "research/logg_1m/exp/exp_logg_1m_multitask.md"
    spec = yaml.safe_load(document.front_matter(page.text).text)
    assert spec["id"] == "EXP-20260105-logg_1m-multitask"
    assert spec["hub"] == "../../../hubs/logg_1m_hub.md"
    assert spec["status"] == "planned" and spec["mvp"] == "MVP-1.5"
    found = document.regions(page.text)
    assert set(found) == {
        "summary",
        "hypotheses",
        "key-numbers",
        "figures",
        "results",
        "binned",
        "comparisons",
        "reproduce",
        "log",
        "record",
    }
    assert all(region.recorded and not region.edited for region in found.values())


def test_new_pages_land_in_hubs(notebook):
    assert main(["new", "hub", "logg_1m"]) == 0
    assert main(["new", "roadmap", "logg_1m", "--hub", "hubs/logg_1m_hub.md"]) == 0
    assert main(["new", "kanban"]) == 0
    hub = (notebook / "hubs/logg_1m_hub.md").read_text(encoding="utf-8")
    assert set(document.regions(hub)) == {"authoritative", "leaderboard", "key-numbers", "experiments", "changelog"}
    roadmap = (notebook / "hubs/logg_1m_roadmap.md").read_text(encoding="utf-8")
    assert "](logg_1m_hub.md)" in roadmap
    assert set(document.regions((notebook / "hubs/kanban.md").read_text(encoding="utf-8"))) == {"board"}


def test_a_scaffolded_notebook_passes_check(notebook):
    for argv in (["new", "hub", "noise"], ["new", "roadmap", "noise"], ["new", "kanban"]):
        assert main(argv) == 0
    assert (
        main(
            [
                "new",
                "exp",
                "noise",
                "curriculum",
                "--hub",
                "hubs/noise_hub.md",
                "--roadmap",
                "hubs/noise_roadmap.md",
                "--kanban",
                "hubs/kanban.md",
                "--mvp",
                "MVP-1.0",
            ]
        )
        == 0
    )
    problems, count = check_paths([notebook / "research", notebook / "hubs"])
    assert count == 4
    assert problems == []


# Every output a spec can declare, added to a scaffold's spec: its regions must all be there.
EVERY_OUTPUT = """\
binned:
  - {metric: mae.log_g, by: T_eff, edges: [3750, 4500, 6000]}
figures:
  - {kind: bar, file: img/bar.png}
  - {kind: binned, binned: 0, file: img/binned.png}
comparisons: [[candidate, baseline]]
"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_new_report_has_a_region_for_every_output_a_spec_can_declare(notebook, lang, capsys):
    from engine.notebook.report import load_report, missing_regions, needed_regions

    assert main(["new", "exp", "t", "idea", "--lang", lang]) == 0
    path = notebook / "research/t/exp/exp_t_idea.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\nkey_numbers:", "\n" + EVERY_OUTPUT + "key_numbers:", 1), encoding="utf-8")
    report = load_report(path)
    declared = {name for need in needed_regions(report.spec) for name in need.regions[:1]}
    assert {"results", "record", "summary", "key-numbers", "binned", "figures", "comparisons"} <= declared
    assert missing_regions(report) == []
    capsys.readouterr()
    assert main(["check", str(path)]) == 0, capsys.readouterr()


def test_new_never_overwrites(notebook):
    assert main(["new", "kanban"]) == 0
    before = (notebook / "hubs/kanban.md").read_bytes()
    with pytest.raises(DocumentError, match="already exists"):
        scaffold.write(scaffold.new_page("kanban", root=notebook))
    assert main(["new", "kanban"]) == 2
    assert (notebook / "hubs/kanban.md").read_bytes() == before


def test_templates_in_the_notebook_override_the_packaged_ones(notebook):
    (notebook / "templates").mkdir()
    (notebook / "templates/kanban.md.j2").write_text(
        "# 我的看板\n<!-- research:board -->\n<!-- /research:board -->\n", encoding="utf-8"
    )
    page = scaffold.new_page("kanban", root=notebook)
    assert page.text.startswith("# 我的看板\n")


def test_a_name_that_cannot_be_a_file_name_is_refused(notebook):
    with pytest.raises(TemplateError, match="not usable in a file name"):
        scaffold.new_experiment("logg 1m", "x", root=notebook)
