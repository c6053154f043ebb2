"""Writes are atomic, locked, re-read first, and skipped when nothing changed."""

import os
import subprocess
import sys
import threading
import time

import pytest

from engine.errors import DocumentError, LockedError
from engine.text import document, textfile

DOC = "# 报告\n\n<!-- research:log -->\n<!-- /research:log -->\n\n用户的话\n"


def fill_log(text):
    return document.replace_regions(text, {"log": "| 2026-01-05 | run | abc123 |\n"})


def test_update_writes_only_when_the_text_changes(tmp_path):
    path = tmp_path / "r.md"
    path.write_text(DOC, encoding="utf-8")
    assert textfile.update(path, fill_log) is True
    mtime = path.stat().st_mtime_ns
    time.sleep(0.01)
    assert textfile.update(path, fill_log) is False
    assert path.stat().st_mtime_ns == mtime


def test_bom_and_crlf_survive_a_write(tmp_path):
    path = tmp_path / "r.md"
    original = b"\xef\xbb\xbf" + DOC.replace("\n", "\r\n").encode("utf-8")
    path.write_bytes(original)
    textfile.update(path, fill_log)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf# ")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.endswith("用户的话\r\n".encode("utf-8"))


def test_a_file_that_is_not_utf8_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "gbk.md"
    original = "# 报告\n第二行\n".encode("gbk")
    path.write_bytes(original)
    with pytest.raises(DocumentError) as err:
        textfile.update(path, fill_log)
    assert "not UTF-8" in str(err.value) and str(err.value).startswith(f"{path}:1:")
    assert path.read_bytes() == original


def test_a_failing_change_writes_nothing_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "r.md"
    path.write_text(DOC, encoding="utf-8")

    def broken(text):
        raise DocumentError("boom")

    with pytest.raises(DocumentError):
        textfile.update(path, broken)
    assert path.read_text(encoding="utf-8") == DOC
    assert os.listdir(tmp_path) == ["r.md"]


def test_the_change_sees_edits_made_after_the_caller_last_read(tmp_path):
    path = tmp_path / "r.md"
    path.write_text(DOC, encoding="utf-8")
    stale = path.read_text(encoding="utf-8")
    path.write_text(DOC + "\n运行期间加的一段\n", encoding="utf-8")  # edited while a run was going
    textfile.update(path, fill_log)
    text = path.read_text(encoding="utf-8")
    assert "运行期间加的一段" in text and "abc123" in text and text != fill_log(stale)


def test_a_second_writer_waits_for_the_lock_then_sees_the_first_writers_text(tmp_path):
    path = tmp_path / "r.md"
    path.write_text("0\n", encoding="utf-8")
    inside = threading.Event()

    def slow(text):
        inside.set()
        time.sleep(0.3)
        return text + "slow\n"

    worker = threading.Thread(target=textfile.update, args=(path, slow))
    worker.start()
    inside.wait()
    textfile.update(path, lambda text: text + "fast\n")
    worker.join()
    assert path.read_text(encoding="utf-8") == "0\nslow\nfast\n"


def test_a_held_lock_times_out_with_a_clear_message(tmp_path):
    path = tmp_path / "r.md"
    path.write_text(DOC, encoding="utf-8")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom engine.text import textfile\n"
            f"with textfile.lock_for({str(path)!r}):\n    print('held', flush=True)\n    time.sleep(5)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError, match="another `research` process"):
            textfile.update(path, fill_log, timeout=0.2)
    finally:
        holder.kill()
        holder.wait()
    assert path.read_text(encoding="utf-8") == DOC


def test_the_file_mode_is_kept(tmp_path):
    path = tmp_path / "r.md"
    path.write_text(DOC, encoding="utf-8")
    path.chmod(0o640)
    textfile.update(path, fill_log)
    assert path.stat().st_mode & 0o777 == 0o640
