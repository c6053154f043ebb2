import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_EXAMPLES = ROOT.parent / "shared" / "examples"


@pytest.fixture
def notebook(tmp_path, monkeypatch):
    """An empty notebook folder, made the working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def shared_example(tmp_path):
    """A copy of one of the user's real documents from ../shared/examples (skipped when absent)."""

    def copy(name: str) -> Path:
        source = SHARED_EXAMPLES / name
        if not source.is_file():
            pytest.skip(f"{source} is not here (../shared is absent)")
        target = tmp_path / name
        shutil.copyfile(source, target)
        return target

    return copy
