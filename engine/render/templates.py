"""Jinja2 rendering of documents and region bodies from `templates/`.

Templates are looked up first in the notebook's own `templates/` folder (so a user can restyle
any page or table by copying one file), then in the templates shipped with the engine.
Rendering is deterministic: same inputs, same bytes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from engine.errors import TemplateError
from engine.notebook.record import kept
from engine.render.phrasebook import regions
from engine.text.safe_yaml import yaml_scalar

PACKAGED = Path(__file__).resolve().parents[2] / "templates"


def packaged_templates() -> Path:
    """The engine's own templates: the repo's `templates/` in a checkout, package data when installed."""
    if PACKAGED.is_dir():
        return PACKAGED
    from importlib.resources import files

    return Path(str(files("engine.templates")))


@lru_cache(maxsize=8)
def environment(root: str | None = None):
    import jinja2

    folders = []
    if root is not None and (Path(root) / "templates").is_dir():
        folders.append(str(Path(root) / "templates"))
    folders.append(str(packaged_templates()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        bytecode_cache=_bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["cell"] = table_cell
    env.filters["yaml"] = yaml_scalar
    env.globals["say"] = regions("en")  # the words of a region; a report's own language is passed as `say`
    return env


def _bytecode_cache():
    """jinja2's own cache of compiled templates, in its per-user folder (created 0700, refused
    if anyone else owns it): a run that changes nothing otherwise compiles every page template
    from source, a third of what it does. An entry is used only while the template's source has
    the checksum it was compiled from, under the same jinja2 (the version is in the name) and
    Python (in jinja2's header); None, and templates compile each time, where the folder cannot
    be used."""
    import jinja2

    try:
        return jinja2.FileSystemBytecodeCache(pattern=f"research-jinja{jinja2.__version__}-%s.cache")
    except (OSError, RuntimeError):
        return None


def render(template: str, root: str | Path | None = None, **values) -> str:
    import jinja2

    try:
        return environment(str(root) if root is not None else None).get_template(template).render(**values)
    except jinja2.TemplateNotFound:
        raise TemplateError(
            f"no template named '{template}'",
            hint=f"templates are read from <notebook>/templates/ and {packaged_templates()}",
        ) from None


def table_cell(value) -> str:
    """A value made safe for one markdown table cell: pipes escaped, newlines folded."""
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\r\n", " ").replace("\n", " ")


def fmt_number(value) -> str:
    """A plain number: 4 significant digits (of the number as the run record keeps it, as
    `fmt_metric`); '-' for nothing; 'nan' kept visible."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if value != value:
        return "nan"
    if isinstance(value, int):
        return str(value)
    return f"{kept(value):.4g}"


def fmt_shown(value, metric: str | None = None, fmt: str | None = None) -> str:
    """A key number or a live number as it is shown: a spec's `format:`, else its metric's
    format, else a plain number; a list (`[trials.a.r2.log_g, trials.b.r2.log_g]`) item by item,
    `0.8954 / 0.8957`, as a researcher writes a row of numbers in prose."""
    if isinstance(value, (list, tuple)):
        return " / ".join(fmt_shown(item, metric, fmt) for item in value)
    if fmt and isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(kept(value) if isinstance(value, float) else value, fmt)
    return fmt_metric(metric, value) if metric else fmt_number(value)


def fmt_metric(metric: str | None, value, *, unit: bool = True) -> str:
    """A metric value in the one format every table, caption, sentence, page, figure label
    (`unit=False`: the axis has it) and terminal screen shows it in: R² and dex to 4 decimals,
    K to 1 (`quantities.decimals`; 4 for any other), errors with their target's unit.
    Rounded once, from the value as the run record keeps it (`record.kept`), so a number read back
    from the record and the same number formatted when it was computed never differ in the last
    digit."""
    if (
        metric is None
        or value is None
        or isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value != value
    ):
        return fmt_number(value)
    from engine.render.quantities import decimals, quantity
    from engine.render.quantities import unit as unit_of

    digits = decimals(metric)
    text = f"{kept(value):.{4 if digits is None else digits}f}"
    found = quantity(metric)
    shown_unit = unit_of(metric) if unit and found is not None and found.per_target else None
    return f"{text} {shown_unit}" if shown_unit else text
