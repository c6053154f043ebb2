"""`--address`: checked before anything runs — its syntax, and a cluster answering there within
a bounded time — so a typo or a stopped cluster is a located error, not a ten-minute wait."""

import socket
import time

import pytest

from engine.errors import ResearchError
from engine.run.executors import check_address


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("address", ["localhost:notaport", "127.0.0.1", ":6379", "127.0.0.1:70000"])
def test_an_address_that_is_no_host_and_port_is_refused(address):
    with pytest.raises(ResearchError) as bad:
        check_address(address)
    assert bad.value.key == "--address" and "expected HOST:PORT" in str(bad.value)


def test_a_port_with_nothing_behind_it_is_refused_at_once():
    port = _free_port()
    began = time.perf_counter()
    with pytest.raises(ResearchError) as bad:
        check_address(f"127.0.0.1:{port}", timeout=5)
    assert time.perf_counter() - began < 5
    assert f"no Ray cluster at 127.0.0.1:{port}" in str(bad.value) and "ray start --head" in str(bad.value)


def test_a_listening_port_passes():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        check_address(f"127.0.0.1:{server.getsockname()[1]}", timeout=5)
        check_address(f"ray://127.0.0.1:{server.getsockname()[1]}", timeout=5)


def test_an_unknown_host_is_named():
    with pytest.raises(ResearchError) as bad:
        check_address("no-such-host.invalid:6379", timeout=5)
    assert "no host named 'no-such-host.invalid'" in str(bad.value)


def test_a_run_against_a_cluster_that_is_not_there_changes_nothing(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from conftest import REPORT_BODY, git_notebook

    spec = "---\nid: EXP-A\ntitle: a\ndata: {source: synthetic, n_train: 200, n_test: 100}\nmodel: {type: ridge}\n---\n"
    root = git_notebook(tmp_path, {"exp.md": spec + REPORT_BODY})
    before = (root / "exp.md").read_bytes()
    research = str(Path(sys.executable).with_name("research"))
    done = subprocess.run(
        [research, "run", "exp.md", "--executor", "ray", "--address", f"127.0.0.1:{_free_port()}"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no Ray cluster at 127.0.0.1:" in done.stderr and "Traceback" not in done.stderr
    assert (root / "exp.md").read_bytes() == before
