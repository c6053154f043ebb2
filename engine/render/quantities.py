"""What each quantity a figure can show is called, in what unit, and how it is best drawn.

One table, so that every axis of every figure names `log_g` the same way (`$\\log g$ [dex]`), a
metric by what it measures (`MAE of $\\log g$ [dex]`), and so that whether a zero line or a log
axis means something is decided once per quantity, not per figure:

    label("mae.log_g")               → 'MAE of $\\log g$ [dex]'
    label("r2.log_g@low_noise")      → '$R^2$ of $\\log g$ on low_noise'
    label("extra.gate_entropy")      → 'gate entropy [nats]'
    label("model.alpha")             → '$\\alpha$'
    label("info.alpha.log_g")        → 'chosen $\\alpha$ of $\\log g$'   (what a ridge chose, per target)
    label("mystery.knob")            → 'mystery.knob'   (unknown: the key itself, never an error)
    label("mae.log_g", {"mae.log_g": "MAE [dex]"}) → 'MAE [dex]'   (a figure's `labels:` win)

Labels are matplotlib mathtext; text outside `$…$` is plain. Nothing here imports matplotlib:
the table is data, and a test can read it without drawing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Quantity:
    """How one quantity is named and drawn.

    `per_target`: a metric or per-target extra, named "<symbol> of <target>" and in the target's
    unit unless `unit` says otherwise ("": unitless, as R² is). `zero_line`: zero is a value the reader compares against (no
    bias, no change), so a line marks it; where zero means nothing (R² of a fit that is never
    that bad, an entropy) a line there only draws the eye. `from_zero`: a bar from zero is a fair
    length for it (an error, a count); not for R² or a signed value. `log`: the quantity is swept
    over decades, so it gets a log axis whenever the values do span more than one. `better`:
    how a metric ranks trials, "higher", "lower" or "zero" (best near zero, whatever its sign:
    a bias); None for what ranks nothing. Every "best", "better" and "worse" the engine says or
    computes reads it (`direction`), so a sentence and the table it describes cannot disagree.
    """

    symbol: str
    unit: str | None = None
    per_target: bool = False
    zero_line: bool = False
    from_zero: bool = True
    log: bool = False
    better: str | None = None
    decimals: int | None = None  # digits after the point of a value label (None: 4 significant)
    words: str | None = None  # its name in a sentence, where the symbol is mathtext (R² for $R^2$)


QUANTITIES: dict[str, Quantity] = {
    # targets
    "log_g": Quantity(r"$\log g$", "dex", from_zero=False, decimals=4),
    "T_eff": Quantity(r"$T_{\rm eff}$", "K", from_zero=False, decimals=1),
    "Fe_H": Quantity("[Fe/H]", "dex", from_zero=False, decimals=4),
    # parameters of a spectrum
    "mag": Quantity("magnitude", "mag", from_zero=False),
    "snr": Quantity("S/N", None, log=True),
    # metrics (of a target)
    "r2": Quantity("$R^2$", "", per_target=True, from_zero=False, better="higher", decimals=4, words="R²"),
    "mae": Quantity("MAE", per_target=True, better="lower"),
    "rmse": Quantity("RMSE", per_target=True, better="lower"),
    "bias": Quantity("bias", per_target=True, zero_line=True, from_zero=False, better="zero"),
    # per-spectrum extras a model reports
    "extra.gate_entropy": Quantity("gate entropy", "nats"),
    "extra.gate_weights": Quantity("gate weight"),
    "extra.sigma": Quantity("Cramér–Rao σ", per_target=True, better="lower"),
    # configuration keys a sweep runs over
    "model.alpha": Quantity(r"$\alpha$", log=True),
    "data.n_train": Quantity(r"$N_{\rm train}$", log=True),
    "data.n_test": Quantity(r"$N_{\rm test}$", log=True),
    "train.lr": Quantity("learning rate", log=True),
    "train.weight_decay": Quantity("weight decay", log=True),
    "train.batch_size": Quantity("batch size", log=True),
    "train.epochs": Quantity("epochs"),
    "noise.level": Quantity("noise level"),
    # training curves (a net's info["curves"]): losses are the MSE of standardised targets, so unitless
    "epoch": Quantity("epoch", from_zero=False),
    "loss": Quantity("loss (MSE of standardised targets)", log=True, better="lower"),
    "train_loss": Quantity("training loss (MSE of standardised targets)", log=True, better="lower"),
    "val_loss": Quantity("validation loss (MSE of standardised targets)", log=True, better="lower"),
    "lr": Quantity("learning rate", log=True),
    "val_r2": Quantity("validation $R^2$", "", per_target=True, from_zero=False, better="higher", decimals=4),
    # what a trained model reports (`info`), as a sweep or line figure's `y: info.<key>` reads it;
    # none ranks trials (a chosen α is not better for being larger), so none has a `better`
    "info.alpha": Quantity(r"chosen $\alpha$", "", per_target=True, log=True, words="chosen α"),
    "info.best_epoch": Quantity("best epoch", decimals=0, words="best epoch"),
    "info.epochs_run": Quantity("epochs run", decimals=0, words="epochs run"),
    "info.n_params": Quantity("trainable parameters", log=True, decimals=0, words="trainable parameters"),
    "info.receptive_field": Quantity("receptive field", "pixels", decimals=0, words="receptive field"),
    "info.n_features": Quantity("features", log=True, decimals=0, words="features"),
}

#: Metric names whose per-target form is `<metric>.<target>`: a metric key is recognised by them.
PER_TARGET = tuple(k for k, q in QUANTITIES.items() if q.per_target)


def _split(key: str) -> tuple[str, str | None]:
    """`'r2.log_g@low_noise'` → `('r2.log_g', 'low_noise')`."""
    base, at, test = key.partition("@")
    return base, (test if at else None)


def _resolve(key: str) -> tuple[Quantity | None, Quantity | None]:
    """(the quantity, its target's quantity when it is per target) of a key without `@test`."""
    for prefix in ("param.",):
        if key.startswith(prefix) and key[len(prefix) :] in QUANTITIES:
            key = key[len(prefix) :]
    if key in QUANTITIES:
        return QUANTITIES[key], None
    if f"extra.{key}" in QUANTITIES:  # a heatmap's `extra: gate_entropy`
        return QUANTITIES[f"extra.{key}"], None
    for name in sorted(PER_TARGET, key=len, reverse=True):  # `extra.sigma.log_g` before `sigma`
        for form in (name, name.removeprefix("extra.")):
            if key.startswith(form + "."):
                target = QUANTITIES.get(key[len(form) + 1 :])
                if target is not None:
                    return QUANTITIES[name], target
    return None, None


def quantity(key: str) -> Quantity | None:
    """The table's entry of a key (a metric's own entry, e.g. `mae` for `mae.log_g`), or None."""
    return _resolve(_split(key)[0])[0]


def unit(key: str) -> str | None:
    """The unit of a key's values (a metric's: its target's), None when unitless or unknown."""
    found, target = _resolve(_split(key)[0])
    if found is None:
        return None
    if found.per_target and target is not None and found.unit is None:
        return target.unit
    return found.unit or None


def symbol(key: str, labels: Mapping[str, str] | None = None) -> str:
    """The key's name without its unit: `MAE of $\\log g$`; what a title or legend says."""
    if labels and key in labels:
        return labels[key]
    base, test = _split(key)
    found, target = _resolve(base)
    if found is None:
        return key
    text = f"{found.symbol} of {target.symbol}" if found.per_target and target is not None else found.symbol
    return f"{text} on {test}" if test else text


def words(key: str, say: ModuleType | None = None) -> str:
    """A key in a sentence, a caption or a table's header: a metric by its key, as every caption
    names one; an info value by its quantity words where the table knows them (`chosen α of log_g
    (info.alpha.log_g)`, in the words of `say`, a region phrasebook, English by default), the key
    kept beside them so the reader can write it; else its key."""
    from engine.render.phrasebook import regions

    found, of = _resolve(_split(key)[0])
    if not key.startswith("info.") or found is None or not found.words:
        return key
    target = key.rsplit(".", 1)[-1] if of is not None else None  # `info.alpha` alone names no target
    return (say or regions("en")).info_words(found.words, target, key)


def label(key: str, labels: Mapping[str, str] | None = None) -> str:
    """An axis label for any key: its name and, in brackets, its unit; the key itself when the
    table does not know it (a figure never fails for want of a label). `labels` (a figure's
    own) override the table, by the exact key."""
    if labels and key in labels:
        return labels[key]
    if quantity(key) is None:
        return key
    u = unit(key)
    return symbol(key) + (f" [{u}]" if u else "")


def delta_label(key: str, labels: Mapping[str, str] | None = None, *, vs: str | None = None) -> str:
    """The label of a difference of the key's values: `Δ MAE of $\\log g$ [dex]`, `… vs base`."""
    text = label(key, labels)
    return f"Δ {text}" + (f" vs {vs}" if vs else "")


def zero_line(key: str) -> bool:
    """Whether zero is a reference value of the key (a line there tells the reader something)."""
    found = quantity(key)
    return bool(found and found.zero_line)


def from_zero(key: str) -> bool:
    """Whether a bar from zero is an honest length for the key (unknown keys: yes)."""
    found = quantity(key)
    return found is None or found.from_zero


def direction(key: str) -> str | None:
    """How the key's values rank: 'higher', 'lower', 'zero' (|value|, a bias) or None."""
    found = quantity(key)
    return found.better if found else None


def better(key: str) -> str | None:
    """The side of zero on which a Δ of the key is an improvement, 'higher' or 'lower'; None
    when no side is (a bias: a Δ helps or hurts depending on the sign of the bias it changes)."""
    way = direction(key)
    return way if way in ("higher", "lower") else None


def log_scale(key: str, values: Iterable[float]) -> bool:
    """Whether the key's values want a log axis: a quantity swept over decades whose positive
    values span more than one (tenfold); an unknown key only when they span more than two."""
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not finite or min(finite) <= 0:
        return False
    span = max(finite) / min(finite)
    found = quantity(key)
    if found is None:
        return span > 100
    return found.log and span > 10


def decimals(key: str) -> int | None:
    """Digits after the point a value of the key is shown with: its own, else its target's (an
    error of T_eff in K to 1, of log g in dex to 4); None when the table fixes none."""
    found, target = _resolve(_split(key)[0])
    if found is None:
        return None
    if found.decimals is None and found.per_target and target is not None:
        return target.decimals
    return found.decimals


def number(key: str, value: float | None) -> str:
    """A value of a parameter or an axis as a figure shows it (its unit is on the axis): to its
    decimals, or to 4 significant digits. A metric's value is `render.fmt_metric`'s to format;
    from the same `decimals` and the same `record.kept`, so the two never print one number two ways."""
    from engine.notebook.record import kept

    if value is None or not math.isfinite(value):
        return "-" if value is None else "nan"
    digits = decimals(key)
    return f"{kept(value):.{digits}f}" if digits is not None else f"{kept(value):.4g}"


__all__ = [
    "QUANTITIES",
    "Quantity",
    "better",
    "decimals",
    "delta_label",
    "direction",
    "from_zero",
    "label",
    "log_scale",
    "number",
    "quantity",
    "symbol",
    "unit",
    "words",
    "zero_line",
]
