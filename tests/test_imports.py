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
    modules = loaded_after("import engine.cli\ntry:\n    engine.cli.main(['--help'])\nexcept SystemExit:\n    pass")
    assert not {name for name in HEAVY if name in modules}


def test_check_loads_no_ml_library(tmp_path):
    report = tmp_path / "r.md"
    report.write_text("# plain page\n\n<!-- research:log -->\n<!-- /research:log -->\n", encoding="utf-8")
    modules = loaded_after(f"import engine.cli\nengine.cli.main(['check', {str(report)!r}])")
    assert not {name for name in ["torch", "lightgbm", "matplotlib", "ray", "sklearn", "h5py"] if name in modules}


def test_status_loads_no_pydantic(small_notebook):
    """typer would build a pydantic TypeAdapter for every parameter, those left out too."""
    modules = loaded_after("import engine.cli\ntry:\n    engine.cli.main(['status'])\nexcept SystemExit:\n    pass")
    assert "typer" in modules and not {name for name in HEAVY if name in modules}


SYNTHETIC_ONLY = ["numpy", "h5py", "torch", "lightgbm", "matplotlib", "ray", "sklearn"]


def test_check_and_a_dry_run_of_a_synthetic_report_load_no_numpy(small_notebook):
    """A synthetic spec is checked from the generator's ranges (engine.data.synth_space)."""
    _, report = small_notebook
    for argv in (["check", str(report)], ["run", str(report), "--dry-run"]):
        modules = loaded_after(f"import engine.cli\nengine.cli.main({argv!r})")
        assert "engine.data.load" in modules and "pydantic" in modules
        assert not {name for name in SYNTHETIC_ONLY if name in modules}, argv


def test_a_cached_rerun_loads_no_ml_library(small_notebook, capsys):
    from engine.cli import main

    _, report = small_notebook
    assert main(["run", str(report), "--no-commit"]) == 0  # renders once; every trial was stored
    assert main(["run", str(report), "--no-commit"]) == 0
    assert "up to date (every trial cached)" in capsys.readouterr().out
    code = f"import engine.cli\nassert engine.cli.main({['run', str(report), '--no-commit']!r}) == 0"
    modules = loaded_after(code)
    assert "engine.runner" in modules and not {name for name in SYNTHETIC_ONLY if name in modules}
