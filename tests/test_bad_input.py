"""Every bad input: a clear located message, exit code 2, and not one byte of the file changed."""

import pytest

from engine.cli import main
from engine.errors import ResearchError
from engine.notebook.report import load_report
from engine.runner import report_text
from engine.text import textfile

SPEC = """\
---
id: EXP-1
title: ridge alpha
data: {source: synthetic, targets: [log_g]}
model: {type: ridge}
train: {epochs: 3}
metrics: [r2.log_g]
---
# report

<!-- research:summary -->
> ⏳
<!-- /research:summary -->

```markdown
<!-- research:example -->
```
"""

BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x]"]
    + [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]"
        for i in range(8)
    ]
)

CASES = {
    "malformed-yaml": (SPEC.replace("train: {epochs: 3}", "train: {epochs: 3"), 7, ["invalid YAML", "flow mapping"]),
    "unknown-key": (
        SPEC.replace("train: {epochs: 3}", "train: {epoch: 3}"),
        6,
        ["train.epoch", "unknown key", "did you mean 'epochs'"],
    ),
    "unknown-top-key": (SPEC.replace("metrics:", "metric:"), 7, ["metric", "did you mean 'metrics'"]),
    "wrong-type": (SPEC.replace("epochs: 3", "epochs: three"), 6, ["train.epochs", "integer", "three"]),
    "missing-key": (SPEC.replace("title: ridge alpha\n", ""), None, ["title", "missing"]),
    "unsafe-tag": (SPEC.replace("id: EXP-1", "id: !!python/object/apply:os.system [echo hi]"), 2, ["tag"]),
    "alias-bomb": ("---\n" + BOMB + "\nid: x\n---\n# r\n", None, ["alias"]),
    "unclosed-region": (SPEC.replace("<!-- /research:summary -->\n", ""), 11, ["summary", "never closed"]),
    "duplicate-region": (SPEC + "\n<!-- research:summary -->\n<!-- /research:summary -->\n", 19, ["appears twice"]),
    "nested-region": (
        SPEC.replace("> ⏳\n", "> ⏳\n<!-- research:inner -->\n<!-- /research:inner -->\n"),
        13,
        ["inside region 'summary'"],
    ),
    "hand-edited-region": (
        SPEC.replace("<!-- /research:summary -->", "<!-- /research:summary sha256:0123456789abcdef -->"),
        11,
        ["summary", "edited by hand", "--force"],
    ),
}


def attempt_write(path):
    """What `research run` does with a report: validate the spec, then write regions back."""
    load_report(path)
    textfile.update(
        path, lambda text: report_text(text, {"summary": "> ✅ done\n"}, front={"status": "done"}, path=path)
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_refused_with_a_located_message_and_the_file_untouched(tmp_path, name):
    text, line, fragments = CASES[name]
    path = tmp_path / "exp.md"
    path.write_bytes(text.encode("utf-8"))
    with pytest.raises(ResearchError) as err:
        attempt_write(path)
    message = str(err.value)
    for fragment in fragments:
        assert fragment.lower() in message.lower(), message
    if line is not None:
        assert message.startswith(f"{path}:{line}:"), message
    else:
        assert message.startswith(str(path)), message
    assert path.read_bytes() == text.encode("utf-8")


@pytest.mark.parametrize("name", ["malformed-yaml", "unknown-key", "wrong-type", "unsafe-tag", "alias-bomb"])
def test_the_cli_says_it_in_one_paragraph_with_exit_code_2(tmp_path, name, capsys):
    text, _, fragments = CASES[name]
    path = tmp_path / "exp.md"
    path.write_bytes(text.encode("utf-8"))
    assert main(["spec", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("research: ") and "Traceback" not in err
    assert err.strip().count("\n") == 0  # one paragraph
    assert path.read_bytes() == text.encode("utf-8")


def test_a_file_that_is_not_utf8_is_refused(tmp_path, capsys):
    path = tmp_path / "exp.md"
    data = SPEC.replace("ridge alpha", "岭回归").encode("gb18030")
    path.write_bytes(data)
    with pytest.raises(ResearchError, match="not UTF-8"):
        attempt_write(path)
    assert main(["spec", str(path)]) == 2
    assert "not UTF-8" in capsys.readouterr().err
    assert path.read_bytes() == data


def test_marker_like_text_in_a_code_fence_is_left_alone(tmp_path):
    path = tmp_path / "exp.md"
    path.write_text(SPEC, encoding="utf-8")
    attempt_write(path)
    text = path.read_text(encoding="utf-8")
    assert "```markdown\n<!-- research:example -->\n```\n" in text
    assert "> ✅ done\n<!-- /research:summary sha256:" in text
    assert "status: done" in text


def test_crlf_and_bom_reports_are_written_in_kind(tmp_path):
    path = tmp_path / "exp.md"
    original = b"\xef\xbb\xbf" + SPEC.replace("\n", "\r\n").encode("utf-8")
    path.write_bytes(original)
    attempt_write(path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf---\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"status: done\r\n" in data
