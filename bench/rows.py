"""The one output format of the bench scripts: `measure  value` lines, aligned (bench/all.py reads them)."""


def print_rows(rows, header: tuple[str, str] | None = None) -> None:
    width = max(len(name) for name, _ in [*rows, *([header] if header else [])])
    if header:
        print(f"{header[0]:<{width}}  {header[1]}")
        print(f"{'-' * width}  {'-' * len(header[1])}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
