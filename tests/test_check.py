"""`research check`: one located line per problem, exit 1 when any, 0 when clean."""

import re

from engine.cli import main

GOOD_SPEC = """\
---
id: EXP-1
title: ridge alpha
hub: hub.md
answers: [Q1.1]
data: {source: synthetic, targets: [log_g]}
model: {type: ridge}
metrics: [r2.log_g]
---
# report

![a figure](img/fig.png)

<!-- research:results -->
<!-- /research:results -->

<!-- research:record -->
<!-- /research:record -->
"""

HUB = "# hub\n```\n└── Q1: why\n    └── Q1.1: which alpha? → ⏳ MVP-1.0\n```\n"


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_sound_notebook_is_clean(notebook, capsys):
    write(notebook, "exp.md", GOOD_SPEC)
    write(notebook, "hub.md", HUB)
    write(notebook, "img/fig.png", "png")
    assert main(["check", "."]) == 0
    assert "2 files checked, 0 problems" in capsys.readouterr().err


def test_every_problem_is_one_located_line(notebook, capsys):
    write(notebook, "exp.md", GOOD_SPEC.replace("Q1.1", "Q1.2").replace("hub.md", "hubb.md"))
    write(notebook, "hub.md", HUB)
    write(notebook, "bad.md", "---\nid: x\ntitel: y\n---\n")
    write(notebook, "edited.md", "<!-- research:log -->\nmine\n<!-- /research:log sha256:0000000000000000 -->\n")
    write(notebook, "markers.md", "text\n\n<!-- research:log -->\n")
    (notebook / "latin1.md").write_bytes("caf\xe9\n".encode("latin-1"))
    assert main(["check", "."]) == 1
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith("exp.md:4: hub:") and "hubb.md" in line for line in out)
    assert any(line.startswith("exp.md:") and "image 'img/fig.png' does not exist" in line for line in out)
    assert any(line.startswith("bad.md:3:") and "titel" in line and "did you mean 'title'" in line for line in out)
    assert any(line.startswith("edited.md:1:") and "edited by hand" in line for line in out)
    assert any(line.startswith("markers.md:3:") and "never closed" in line for line in out)
    assert any(line.startswith("latin1.md:1:") and "not UTF-8" in line for line in out)


def test_an_unknown_hypothesis_id_names_the_hub_and_the_close_ids(notebook, capsys):
    write(notebook, "exp.md", GOOD_SPEC.replace("Q1.1", "Q1.2"))
    write(notebook, "hub.md", HUB)
    write(notebook, "img/fig.png", "png")
    assert main(["check", "exp.md"]) == 1
    out = capsys.readouterr().out
    assert "'Q1.2' is not in the hypothesis tree of hub.md" in out and "Q1.1" in out


def test_check_changes_no_file(notebook):
    path = write(notebook, "edited.md", "<!-- research:log -->\nmine\n<!-- /research:log sha256:0000000000000000 -->\n")
    before = path.read_bytes()
    main(["check", "."])
    assert path.read_bytes() == before


def test_one_hand_edit_is_one_problem(small_notebook, capsys):
    """A hand edit is found by the file's own check and by the check of every report whose run
    writes that file; the user made one edit and must read of it once — however the folder is named."""
    from engine.text import document

    root, report = small_notebook
    assert main(["run", str(report), "--no-commit"]) == 0
    text = report.read_text(encoding="utf-8")
    body = document.regions(text)["key-numbers"].body
    edited = re.sub(r"\d", lambda m: str((int(m.group()) + 1) % 10), body, count=1)  # one digit changed
    assert edited != body
    report.write_text(text.replace(body, edited), encoding="utf-8")
    hub = root / "hubs/hub.md"
    text = hub.read_text(encoding="utf-8")
    body = document.regions(text)["leaderboard"].body
    hub.write_text(text.replace(body, body + "| my row | 1 |\n"), encoding="utf-8")
    for argv in (["check"], ["check", "research"], ["check", str(root / "research"), "hubs"]):
        capsys.readouterr()
        assert main(argv) == 1
        captured = capsys.readouterr()
        edits = [line for line in captured.out.splitlines() if "edited by hand" in line]
        assert len(edits) == 2, (argv, captured.out)
        assert sum("key-numbers" in line for line in edits) == 1 and sum("leaderboard" in line for line in edits) == 1
        assert "2 problems" in captured.err, (argv, captured.err)
        assert all("--force" in line for line in edits)
