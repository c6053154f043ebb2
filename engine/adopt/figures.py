"""The figures of a finished report as a spec's `figures`: each under its original file name,
its kind guessed from that name and its caption.

The user's figures are linked from the report (`![…](./img/gate_r2_comparison.png)`) with a
caption ("**Figure 2. ΔR² in each Teff × [M/H] cell**") and a heading above. A run should draw
each again at the same path, so the links, the captions and the user's observations under them
stay right; which kind of plot it is can only be read from words: "bootstrap" is the bootstrap
distribution, "weight" a gate's weights, "delta … bin" a binned Δ, "pred … true" a scatter, and
a comparison of methods a bar chart. Each kind is a guess, and says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from engine.adopt.headings import fold
from engine.adopt.markers import Image
from engine.adopt.outline import Block, Outline
from engine.adopt.said import Said, Unread

SUFFIXES = (".png", ".svg", ".pdf")
#: (kind, words in the file name or caption), tried in order; the first kind whose words appear wins.
KIND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("bootstrap", ("bootstrap", "重采样")),
    ("weights", ("weight", "权重", "routing")),
    ("heatmap", ("entropy", "熵", "heatmap", "热图")),
    ("pred_vs_true", ("predvstrue", "predtrue", "scatter", "散点", "predicted")),
    ("curves", ("curve", "loss", "epoch", "训练曲线")),
    ("binned_delta", ("deltar2perbin", "deltaperbin", "deltapercell", "δr2perbin", "gainperbin", "增益")),
    ("binned", ("perbin", "bybin", "percell", "vsteff", "vsfeh", "vsmh", "vssnr", "bias", "分箱", "格子", "每个")),
)
_CAPTION_RE = re.compile(r"^\s*(?:\*\*)?\s*(?:figure|fig\.?|图)\s*\d+", re.IGNORECASE)


@dataclass
class Figure:
    entry: dict[str, Any]
    said: Said


def read(
    doc: Outline,
    lines: Sequence[str],
    images: Sequence[Image],
    *,
    binned: Sequence[dict[str, Any]],
    mixture: bool,
    nets: bool,
    primary: str,
    trials: Sequence[str],
) -> tuple[list[Figure], list[Unread]]:
    """A figure spec per image, in order (figure-N is drawn from figures[N-1]); an image that
    cannot be one (a URL, an unknown format) ends the list, so the numbering stays right."""
    found: list[Figure] = []
    unread: list[Unread] = []
    for image in images:
        file = _file(image.src)
        if file is None:
            unread.append(
                Unread(f"figure {image.src!r}: not a .png, .svg or .pdf path inside the notebook", image.line)
            )
            break
        words = " ".join([image.src, image.alt, _caption(doc, lines, image.line)])
        kind = _kind(words, binned=binned, mixture=mixture, nets=nets)
        entry: dict[str, Any] = {"kind": kind}
        if kind == "bar":
            metric = _metric_in(words) or primary.split(".", 1)[0]
            entry["metrics"] = [f"{metric}.{primary.split('.', 1)[1]}"]
        elif kind in ("binned", "binned_delta"):
            which = _which_binned(words, binned, delta=kind == "binned_delta")
            if which is None:  # it names a parameter no table is binned by: a bar chart, as a guess
                kind = "bar"
                entry = {"kind": kind, "metrics": [primary]}
            else:
                entry["binned"] = which
        elif kind == "heatmap":
            entry.update(extra="gate_entropy", by="snr")
        elif kind == "weights" and trials:
            entry["trials"] = list(trials)  # the gates (a global model beside the experts has no weights)
        entry["file"] = file
        caption = _caption(doc, lines, image.line)
        quote = f"{image.src} … {caption}" if caption else image.src
        found.append(Figure(entry, Said(image.line, quote, why=f"a {kind} plot from its name and caption")))
    return found, unread


def _file(src: str) -> str | None:
    """The spec's `file:` for an image link: the same path, relative to the report."""
    if not src or re.match(r"^[a-z]+:", src, re.IGNORECASE) or src.startswith("/"):
        return None
    path = PurePosixPath(src)
    if path.suffix.lower() not in SUFFIXES:
        return None
    return str(path) if not src.startswith("./") else src[2:]


def _caption(doc: Outline, lines: Sequence[str], line: int) -> str:
    """The words about the figure at `line`: the heading above it and its caption ("**Figure 2.
    …**", "图 2：…") in the paragraphs below it, before the next heading or rule."""
    above: Block | None = None
    caption = ""
    for block in doc.blocks:
        if block.end <= line:
            above = block if block.type == "heading" else above
            continue
        if block.begin <= line:
            continue  # the image's own paragraph
        if block.type in ("heading", "hr"):
            break
        if block.type == "paragraph" and _CAPTION_RE.match(lines[block.begin]):
            caption = lines[block.begin].strip()
            break
    return " ".join(part for part in ((above.text if above else ""), caption) if part)


def _kind(words: str, *, binned: Sequence[dict[str, Any]], mixture: bool, nets: bool) -> str:
    folded = fold(words.replace("Δ", " delta ").replace("−", "-"))
    for kind, names in KIND_WORDS:
        if not any(fold(n) in folded for n in names):
            continue
        if (kind in ("weights", "heatmap") and not mixture) or (kind == "curves" and not nets):
            continue  # a kind the models cannot draw
        if kind == "binned_delta" and not any(b.get("delta") for b in binned):
            kind = "binned"
        if kind in ("binned", "binned_delta") and not binned:
            continue
        return kind
    if "delta" in folded and ("bin" in folded or "cell" in folded) and binned:
        return "binned_delta" if any(b.get("delta") for b in binned) else "binned"
    return "bar"


def _metric_in(words: str) -> str | None:
    folded = fold(words)
    for metric, names in (("r2", ("r2",)), ("rmse", ("rmse",)), ("mae", ("mae",))):
        if any(n in folded for n in names):
            return metric
    return None


def _which_binned(words: str, binned: Sequence[dict[str, Any]], *, delta: bool) -> int | str | None:
    """The binned table a figure shows: by the parameter its words name, else the first (with a
    Δ); None when its words name a parameter no table is binned by ("bias vs SNR", no SNR table)."""
    folded = fold(words)
    axes = {"T_eff": "teff", "Fe_H": "feh", "snr": "snr", "log_g": "logg", "mag": "mag"}
    named = {axis for axis, word in axes.items() if word in folded}
    usable = [(i, t) for i, t in enumerate(binned) if not delta or t.get("delta")]
    for index, table in usable:
        by = set([table["by"]] if isinstance(table["by"], str) else table["by"])
        if named and by <= named | {"T_eff", "Fe_H"} and by & named:
            return table.get("name") or index
    if named and not any(set([t["by"]] if isinstance(t["by"], str) else t["by"]) & named for _, t in usable):
        return None
    return (usable[0][1].get("name") or usable[0][0]) if usable else None
