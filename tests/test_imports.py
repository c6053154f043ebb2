"""Start-up discipline: the CLI must not pay for torch, lightgbm, matplotlib or ray."""

import subprocess
import sys

HEAVY = ["torch", "lightgbm", "matplotlib", "ray", "sklearn", "h5py", "pydantic", "numpy"]


def loaded_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_importing_the_cli_loads_no_heavy_library():
    modules = loaded_after("import engine.cli")
    assert not {name for name in HEAVY if name in modules}


def test_help_loads_no_heavy_library():
    modules = loaded_after(
        "import engine.cli\n"
        "try:\n    engine.cli.main(['--help'])\nexcept SystemExit:\n    pass"
    )
    assert not {name for name in HEAVY if name in modules}


def test_check_loads_no_ml_library(tmp_path):
    report = tmp_path / "r.md"
    report.write_text("# plain page\n\n<!-- research:log -->\n<!-- /research:log -->\n", encoding="utf-8")
    modules = loaded_after(f"import engine.cli\nengine.cli.main(['check', {str(report)!r}])")
    assert not {name for name in ["torch", "lightgbm", "matplotlib", "ray", "sklearn", "h5py"] if name in modules}
