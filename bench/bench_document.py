"""Figures for the document engine: how long reading, sealing and writing back a report takes.

    .venv/bin/python bench/bench_document.py

Prints: parse of a 1,000-line report (regions found), a write-back of 8 regions (lock, re-read,
replace, atomic rename), `research --help` and `import engine.cli` wall time.
Targets (from the run issue): write-back <= 20 ms, --help <= 0.3 s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rows import print_rows

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.runner import report_text  # noqa: E402
from engine.text import document, textfile  # noqa: E402

NAMES = ["summary", "hypotheses", "key-numbers", "figures", "results", "binned", "reproduce", "log"]


def report(lines: int = 1000) -> str:
    """A report of about `lines` lines: prose, tables, code fences and 8 regions."""
    out = ["---", "id: BENCH-1", "title: bench", "model: {type: ridge}", "---", "# 📘 Bench report", ""]
    per = (lines - len(out)) // len(NAMES)
    for name in NAMES:
        out += [f"## {name}", "", "用户写的话，带 $R^2$ 和 | 表格 |", "```python", "print('x')", "```", ""]
        out += [f"<!-- research:{name} -->", "| a | b |", "|---|---|"]
        out += [f"| row {i} | {i * 0.1:.4f} |" for i in range(max(per - 12, 1))]
        out += [f"<!-- /research:{name} -->", ""]
    return "\n".join(out) + "\n"


def timed(fn, repeat: int = 20) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def write_back(path: Path, bodies: dict[str, str], front: dict[str, str] | None = None) -> bool:
    """What the end of a run does to a report: its regions and front matter keys, under its lock."""
    return textfile.update(path, lambda text: report_text(text, bodies, front=front or {}, path=path))


def write_back_ms(lines: int = 1000) -> tuple[float, float]:
    """Median ms of a write-back of 8 regions into a report of `lines` lines, and of one that changes nothing."""
    bodies = {name: "| a | b |\n|---|---|\n" + "".join(f"| r{i} | {i} |\n" for i in range(100)) for name in NAMES}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.md"
        path.write_text(report(lines), encoding="utf-8")
        flip = [0]

        def write() -> None:
            flip[0] ^= 1  # alternate bodies so every write really writes
            write_back(
                path, {n: b + ("| x |\n" if flip[0] else "") for n, b in bodies.items()}, front={"status": "done"}
            )

        changed = timed(write)
        same = timed(lambda: write_back(path, {n: b + ("| x |\n" if flip[0] else "") for n, b in bodies.items()}))
    return changed * 1e3, same * 1e3


def main() -> None:
    text = report()
    rows = []
    rows.append(("report size", f"{text.count(chr(10))} lines, {len(text.encode()) / 1024:.0f} KiB"))
    rows.append(("regions() on it", f"{timed(lambda: document.regions(text)) * 1e3:.1f} ms"))
    changed, same = write_back_ms()
    rows.append(("write-back, 8 regions (target <= 20 ms)", f"{changed:.1f} ms"))
    rows.append(("write-back when nothing changed", f"{same:.1f} ms"))
    research = Path(sys.executable).parent / "research"
    if research.exists():
        rows.append(
            (
                "`research --help` (target <= 0.3 s)",
                f"{timed(lambda: subprocess.run([str(research), '--help'], capture_output=True), 5):.3f} s",
            )
        )
    rows.append(
        (
            "`import engine.cli`",
            f"{timed(lambda: subprocess.run([sys.executable, '-c', 'import engine.cli'], capture_output=True), 5):.3f} s",
        )
    )
    print_rows(rows)


if __name__ == "__main__":
    main()
