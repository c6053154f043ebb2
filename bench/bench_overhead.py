"""The engine's own overhead: each everyday command as a whole process, against the import floor.

    .venv/bin/python bench/bench_overhead.py [--repeat 7] [--notebook .] [--report research/logg_1m/exp/exp_logg_1m_multitask.md]

Times each command as a fresh process (`python -c "from engine.cli import main; ..."`, this
checkout's engine) `--repeat` times and prints its median and min, and the median over the
median of the import floor — a process that only imports typer, pydantic, markdown-it, jinja2,
yaml and rich, which every command needs — measured the same way, and, for the commands that
read a spec, against the model floor: the same imports plus one pydantic model validated
(pydantic 2 defers its machinery until then, 0.1 s here):

  - `research status` (target <= 0.3 s);
  - `research check research hubs` (target <= 0.4 s);
  - a cached re-run of the example report (target <= 0.3 s): every trial cached and the report
    up to date. It runs in a copy of the notebook (its reports, pages, templates and run store)
    in a temporary folder, so the notebook is never written; when a dry run says a trial would
    train, the row says so instead (run the example first);
  - `research --help`.

Commands are interleaved (floor, status, check, run, help, floor, …) so that the load of a
shared machine falls on each alike; on a busy machine read the medians of 7 or more runs.
A first round, not counted, writes the bytecode caches an installed package has.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rows import print_rows

ROOT = Path(__file__).resolve().parents[1]
FLOOR = "import typer, pydantic, markdown_it, jinja2, yaml, rich"
# pydantic 2's `import pydantic` is lazy: its validation machinery loads with the first model. A
# command that reads a spec pays that too; this floor is the one such a command cannot go under.
MODEL_FLOOR = FLOOR + "; from pydantic import BaseModel\nclass Spec(BaseModel):\n    x: int = 0\nSpec(x=1)"
CLI = "import sys; from engine.cli import main; sys.exit(main(sys.argv[1:]))"
REPORT = "research/logg_1m/exp/exp_logg_1m_multitask.md"
COPIED = ("research", "hubs", "templates", "research.yaml", ".research/runs", ".research/reports")


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def research(*args: str) -> list[str]:
    return [sys.executable, "-c", CLI, *args]


def wall(command: list[str], cwd: Path, env: dict[str, str], ok: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(command[3:]) or command}: exit {done.returncode}\n{done.stdout}{done.stderr}")
    return seconds


def copy_notebook(notebook: Path, into: Path) -> None:
    for name in COPIED:
        source = notebook / name
        if source.is_dir():
            shutil.copytree(source, into / name)
        elif source.is_file():
            shutil.copy2(source, into / name)
    (into / ".research").mkdir(exist_ok=True)


def cached_run(copy: Path, report: str, env: dict[str, str]) -> tuple[list[str] | None, str]:
    """The command of a cached re-run in `copy`, or None and why there is none."""
    plan = subprocess.run(research("run", report, "--dry-run"), cwd=copy, env=env, capture_output=True, text=True)
    if plan.returncode != 0:
        return None, f"dry run failed: {(plan.stderr or plan.stdout).strip().splitlines()[-1:]}"
    lines = [
        line.split() for line in plan.stdout.splitlines()[1:] if line.startswith("  ") and not line.startswith("      ")
    ]
    waiting = [words[0] for words in lines if len(words) > 1 and words[1] != "cached"]
    if not lines or waiting:
        return None, f"not cached ({len(waiting)} of {len(lines)} trials would train): run the example first"
    command = research("run", report, "--no-commit")
    first = subprocess.run(
        command, cwd=copy, env=env, capture_output=True, text=True
    )  # renders once if the copy is behind
    if first.returncode != 0 or "0 trained" not in first.stdout:
        return None, f"the re-run did not stay cached: {first.stdout.strip().splitlines()[-1:]}"
    return command, ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each command (median and min of them)")
    parser.add_argument("--notebook", type=Path, default=ROOT, help="the notebook (its research/ and hubs/, run store)")
    parser.add_argument("--report", default=REPORT, help="the report of the cached re-run, relative to the notebook")
    args = parser.parse_args()
    env = environment()
    notebook = args.notebook.resolve()
    with tempfile.TemporaryDirectory(prefix="research-bench-overhead-") as folder:
        copy = Path(folder)
        copy_notebook(notebook, copy)
        # status and check read the notebook itself (its git history too) and write nothing
        commands: dict[str, tuple[list[str], Path, tuple[int, ...]]] = {
            "floor": ([sys.executable, "-c", FLOOR], notebook, (0,)),
            "model floor": ([sys.executable, "-c", MODEL_FLOOR], notebook, (0,)),
            "status": (research("status"), notebook, (0,)),
            "check": (research("check", "research", "hubs"), notebook, (0, 1)),  # 1: it found problems, and said so
        }
        run, why = cached_run(copy, args.report, env)
        if run is not None:
            commands["run"] = (run, copy, (0,))
        commands["help"] = (research("--help"), notebook, (0,))
        times: dict[str, list[float]] = {name: [] for name in commands}
        for round_ in range(args.repeat + 1):
            for name, (command, cwd, ok) in commands.items():
                seconds = wall(command, cwd, env, ok)
                if round_:  # the first round writes the bytecode caches
                    times[name].append(seconds)
    floor = statistics.median(times["floor"])
    labels = {
        "floor": f"import floor: {FLOOR.removeprefix('import ')}",
        "model floor": "the same + one pydantic model validated (what reading a spec cannot avoid)",
        "status": "`research status` (target <= 0.3 s)",
        "check": "`research check research hubs` (target <= 0.4 s)",
        "run": f"cached re-run of {Path(args.report).name} (target <= 0.3 s)",
        "help": "`research --help`",
    }
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        ratio = "" if name == "floor" else f" · {median / floor:.2f}x floor ({median - floor:+.3f} s)"
        if name in ("check", "run"):
            model = statistics.median(times["model floor"])
            ratio += f" · {median / model:.2f}x the model floor ({median - model:+.3f} s)"
        rows.append((labels[name], f"{median:.3f} s median · {min(values):.3f} s min{ratio}"))
    if run is None:
        rows.insert(4, (labels["run"], why))
    load = f", load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores" if hasattr(os, "getloadavg") else ""
    rows.append(("runs", f"{args.repeat} of each, interleaved, whole processes{load}"))
    print_rows(rows, header=("command", "wall time"))


if __name__ == "__main__":
    main()
