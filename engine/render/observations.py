"""Key observations: the two or three sentences under a figure or a binned table that say what
its numbers show, by fixed rules, so that a sentence never claims more than the numbers hold.

    observe_binned(table, best="mlp", baseline="classify")        # a `binned_table` dict
    observe_trials({"mlp": 0.931, ...}, {"mlp": (0.92, 0.94)}, metric="r2.log_g", baseline=...)
    observe_deltas({"mlp": {"value": .., "lo": .., "hi": .., "p_positive": ..}}, metric=.., reference=..)
    observe_sweep([(x, group, value, interval), ...], x_key="model.alpha", metric="r2.log_g")
    observe_curves({"mlp": {"best": 7, "run": 10, "stopped": True, "monitored": "val"}})
    render(sentences)                                             # "- …\\n- …\\n"

Pure: numbers in, sentences out (English, or Chinese with `lang="zh"`: the same facts and the
same number strings, since both come from one set of computed facts and `render.fmt_metric`).

Rules (why each is there):

* Direction. Each metric's is set once, in `quantities` (the one `decision.badness` ranks by):
  R² is higher-is-better, MAE and RMSE lower-is-better, bias is best near zero (|bias|); a value
  with none there (most `extra.*`) gets only "highest" and "lowest", never "better".
  `lower_is_better=` overrides the metric's own direction (for bias it keeps |bias|: a signed
  bias is never better for being more negative).
* An interval [lo, hi] of a difference Δ is *resolved* when it excludes 0 by more than ≈ 0, and
  an end is *≈ 0* when |end| ≤ 5 % of the interval's width (`NEAR_ZERO`): relative to the width,
  because what counts as "zero" is the bootstrap's own resolution, not an absolute number. An
  interval whose end nearest 0 is ≈ 0 is *marginal*, whichever side of 0 the end lies on (the
  user's [−0.0000, +0.0168] is marginal, not "excludes 0"); one that holds 0 well inside is
  "not separable at 95 %". For bias, Δ = bias(trial) − bias(reference) improves |bias| only
  between 0 and −2·bias(reference); a resolved improvement lies wholly inside that range.
* "Better" is said only when a paired interval is resolved, or two trials' 95 % intervals do
  not overlap; overlapping intervals say "not separable at 95 %"; with no intervals a
  comparison is called a point estimate. A count of improvements ("in 7 of 9 cells") is of
  point estimates, with the resolved ones counted beside it.
* Bins with fewer than `min_n` spectra are never ranked nor counted; when one of them holds a
  value more extreme than the ranked ones it is named, as too few to rank, since that is where
  a reader's eye goes first. Fewer than two ranked bins: no best or worst bin.
* A trend ("rises with N") needs three or more points, strictly monotone; two points, or a
  curve that turns, get "no trend claimed". A trend whose first and last points have
  overlapping intervals is said with that caveat. An optimum at the smallest or largest value
  swept is "at the edge: extend the sweep", because the true optimum may lie beyond it. The
  optimum's drift across groups ("the best α grows with N") is a trend, and needs three groups;
  with two it is only listed.
* Training curves say only where the best epoch fell, from the epochs the trainer recorded:
  at the last epoch of a run that did not stop early, the monitored loss was still falling
  ("more epochs may help"); before it, the last epochs did not improve it; a stop is said with
  the epoch it came at. Whether a curve "overfits" is left to the figure.
* NaN or missing values are skipped and the skip is said (which trials, bins or points).
* At most three sentences, the most informative first (a comparison with the reference before
  extremes); the note of what was skipped always survives the cut, as the last sentence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

from engine.notebook.config import LANGS
from engine.render.quantities import QUANTITIES, direction
from engine.render.templates import fmt_metric
from engine.spec.vocabulary import METRICS, split_test

MAX_SENTENCES = 3
NEAR_ZERO = 0.05  # an interval's end is ≈ 0 within this fraction of the interval's width

__all__ = [
    "HEADINGS",
    "MAX_SENTENCES",
    "NEAR_ZERO",
    "heading",
    "interval_verdict",
    "observe_binned",
    "observe_curves",
    "observe_deltas",
    "observe_sweep",
    "observe_trials",
    "render",
]


# ---------------------------------------------------------------------------------------------
# Shared pieces


def _check_lang(lang: str) -> bool:
    """True for Chinese: every sentence builder branches on it, with the same facts."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    return lang == "zh"


def _finite(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _parts(metric: str) -> tuple[str, str]:
    """(metric, target) of a reference, its test set dropped: the label and the direction."""
    name, _, target = split_test(metric or "")[0].partition(".")
    return name, target


def _label(metric: str) -> str:
    name, target = _parts(metric)
    if name in METRICS:
        quantity = QUANTITIES[name]
        return quantity.words or quantity.symbol
    return target or name or "value"


def _direction(metric: str, lower_is_better: bool | None) -> str | None:
    """'high', 'low', 'abs' (best near zero) or None (no better or worse): the metric's own
    direction (`quantities.direction`, the one the tables and the verdict rank by)."""
    way = direction(split_test(metric or "")[0])
    if way == "zero":
        return "abs"
    if lower_is_better is not None:
        return "low" if lower_is_better else "high"
    return {"higher": "high", "lower": "low"}.get(way) if way is not None else None


def _bad(value: float, direction: str | None) -> float:
    """A number to minimise (for None: the lowest first, an order with no judgement in it)."""
    if direction == "high":
        return -value
    if direction == "abs":
        return abs(value)
    return value


def _num(metric: str, value: float) -> str:
    return fmt_metric(metric, float(value))


def _signed(text: str) -> str:
    return text if text.startswith(("-", "−", "n")) else "+" + text


def _iv(metric: str, d: Mapping[str, Any]) -> str:
    """`+0.0097 [-0.0000, +0.0168]`: a difference with its interval."""
    return f"{_signed(_num(metric, d['value']))} [{_signed(_num(metric, d['lo']))}, {_signed(_num(metric, d['hi']))}]"


def _p(d: Mapping[str, Any]) -> str | None:
    p = d.get("p_positive")
    return f"P(Δ > 0) = {p:.3f}" if _finite(p) else None


def _join(items: Sequence[str], zh: bool) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    if zh:
        return "、".join(items[:-1]) + " 和 " + items[-1]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _few(items: Sequence[str], zh: bool, most: int = 3) -> str:
    """A list a sentence can carry: the first few, then how many more."""
    items = list(items)
    if len(items) <= most:
        return _join(items, zh)
    rest = len(items) - most
    return ("、".join(items[:most]) + f" 等 {len(items)} 项") if zh else (", ".join(items[:most]) + f" and {rest} more")


_LEADS = {
    "the",
    "only",
    "no",
    "against",
    "across",
    "fewer",
    "bias",
    "stopped",
}  # our own words, capitalised; a trial's name never is
_FULL_WIDTH = re.compile(r"\s*([（），：；。、])\s*")


def _sentence(text: str, zh: bool) -> str:
    text = text.strip()
    if zh:
        return _FULL_WIDTH.sub(r"\1", text) + "。"
    if text.split(" ", 1)[0] in _LEADS:
        text = text[0].upper() + text[1:]
    return text + "."


def _cut(sentences: Sequence[str | None], skipped: str | None) -> list[str]:
    """At most MAX_SENTENCES, the skip note kept last (what was not looked at must be said)."""
    room = MAX_SENTENCES - (1 if skipped else 0)
    out = [s for s in sentences if s][:room]
    return out + ([skipped] if skipped else [])


def _as_interval(value: Any) -> tuple[float, float] | None:
    """(lo, hi) from a pair or a mapping with lo/hi; None when it is not two finite numbers."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        lo, hi = value.get("lo"), value.get("hi")
    else:
        try:
            lo, hi = value
        except (TypeError, ValueError):
            return None
    if not (_finite(lo) and _finite(hi)):
        return None
    return (float(min(lo, hi)), float(max(lo, hi)))


def _abs_interval(iv: tuple[float, float]) -> tuple[float, float]:
    lo, hi = iv
    if lo <= 0 <= hi:
        return 0.0, max(-lo, hi)
    return min(abs(lo), abs(hi)), max(abs(lo), abs(hi))


def _overlap(a: tuple[float, float] | None, b: tuple[float, float] | None, direction: str | None) -> bool | None:
    """Do two 95 % intervals overlap (for bias: those of |bias|)? None when one is missing."""
    if a is None or b is None:
        return None
    if direction == "abs":
        a, b = _abs_interval(a), _abs_interval(b)
    return a[0] <= b[1] and b[0] <= a[1]


def interval_verdict(
    d: Mapping[str, Any] | None,
    direction: str | None,
    *,
    reference_value: float | None = None,
    near_zero: float = NEAR_ZERO,
) -> tuple[str, str | None] | None:
    """(verdict, end) of a difference's interval: 'better', 'worse', 'differs' (no direction),
    'marginal' or 'unresolved', and for 'marginal' which end ('lower'/'upper') is ≈ 0. None
    when the difference or its interval is missing. Kept public so a rule and a sentence can
    agree on what "excludes 0" means."""
    if not d or not all(_finite(d.get(k)) for k in ("value", "lo", "hi")):
        return None
    lo, hi = sorted((float(d["lo"]), float(d["hi"])))
    eps = near_zero * (hi - lo)
    end = "lower" if abs(lo) <= abs(hi) else "upper"
    if abs(lo if end == "lower" else hi) <= eps and not (abs(lo) <= eps and abs(hi) <= eps):
        return "marginal", end
    if lo > eps or hi < -eps:
        sign = 1 if lo > eps else -1
        if direction is None or (direction == "abs" and not _finite(reference_value)):
            return "differs", None
        if direction == "abs":
            assert reference_value is not None  # finite, or the difference "differs" above
            r = float(reference_value)
            if r == 0:
                return "worse", None
            good = -1 if r > 0 else 1  # the side of 0 that moves bias towards zero
            if sign != good:
                return "worse", None
            far = hi if good > 0 else -lo  # the interval's end farthest from 0, on the good side
            if far < 2 * abs(r):
                return "better", None
            near = lo if good > 0 else -hi
            return ("worse", None) if near > 2 * abs(r) else ("unresolved", None)
        good = 1 if direction == "high" else -1
        return ("better" if sign == good else "worse"), None
    return "unresolved", None


def _verdict_clause(verdict: tuple[str, str | None] | None, zh: bool) -> str:
    if verdict is None:
        return "；无区间" if zh else "; no interval"
    kind, end = verdict
    if kind == "marginal":
        if zh:
            return f"，区间{'下' if end == 'lower' else '上'}端 ≈ 0：边缘显著"
        return f"; the {end} end of the interval is ≈ 0: marginal"
    if kind == "unresolved":
        return "，区间含 0：95 % 水平下不可区分" if zh else "; the interval includes 0: not separable at 95 %"
    return "，区间不含 0" if zh else "; the interval excludes 0"


HEADINGS = {"en": "Key observations:", "zh": "主要观察："}


def heading(lang: str = "en") -> str:
    """The line that introduces the observations under a figure or a table."""
    _check_lang(lang)
    return HEADINGS[lang]


def one_seed(trials: Sequence[str], lang: str = "en") -> str | None:
    """The caveat under numbers of trials whose training noise nobody measured (one run of a
    seeded model): their intervals hold the test rows only, so no sentence above can say more."""
    if not trials:
        return None
    zh = _check_lang(lang)
    names = _few(trials, zh)
    if zh:
        return _sentence(f"{names} 只跑了 1 个种子：训练噪声未测，以上区间只含测试集的抽样误差", zh)
    return _sentence(
        f"{names} ran with one seed: {'its' if len(trials) == 1 else 'their'} training noise was not measured, "
        f"and the intervals above hold the test rows only",
        zh,
    )


def render(observations: Sequence[str]) -> str:
    """The body of an `observations` region: one "- " line per sentence, newlines folded (a
    sentence is one bullet); nothing at all when there is nothing to observe."""
    lines = [" ".join(str(s).split()) for s in observations]
    return "".join(f"- {line}\n" for line in lines if line)


# ---------------------------------------------------------------------------------------------
# Binned tables


def observe_binned(
    table: Mapping[str, Any],
    *,
    best: str | None = None,
    baseline: str | None = None,
    references: Sequence[str] = (),
    lower_is_better: bool | None = None,
    min_n: int | None = None,
    lang: str = "en",
) -> list[str]:
    """Observations of a `binned.binned_table` dict (one-way or two-way).

    `best` is the trial the sentences are about (default: the trial other than the reference
    and the `references` with the best n-weighted mean over its rankable bins); `baseline` the
    one it is compared with (default: the table's Δ reference). The table's Δ intervals are used
    only when they are against that same trial. `min_n` (default: the table's) marks bins too
    small to rank. Which trial is best in a bin is said of every trial the table shows,
    `references` (yardsticks, never the focus) included: a sentence describes the table under it."""
    zh = _check_lang(lang)
    metric = str(table.get("metric") or "")
    values = {t: list(v) for t, v in (table.get("values") or {}).items()}
    trials = [t for t in (table.get("trials") or list(values)) if t in values]
    if not trials:
        return []
    n = [int(c) for c in (table.get("n") or [])]
    k = max(len(v) for v in values.values())
    n += [0] * (k - len(n))
    limit = table.get("min_n") if min_n is None else min_n
    small = [c < limit for c in n] if limit is not None else list(table.get("small") or [False] * k)
    direction = _direction(metric, lower_is_better)
    label = _label(metric)
    names = list(table.get("names") or [None] * k)
    labels = list(table.get("words") or table.get("labels") or [str(i + 1) for i in range(k)])
    by = table.get("by") or ""
    two_way = len(table.get("axes") or []) > 1 or "×" in by

    def where(i: int) -> str:
        if i < len(names) and names[i]:
            return str(names[i])
        return f"{by} {labels[i]}".strip() if i < len(labels) else str(i + 1)

    def cells(count: int) -> str:
        if zh:
            return "单元格" if two_way else "分箱"
        word = "cell" if two_way else "bin"
        return word if count == 1 else word + "s"

    def value(trial: str, i: int) -> float | None:
        v = values.get(trial, [])
        return float(v[i]) if i < len(v) and _finite(v[i]) else None

    ref = baseline if baseline is not None else table.get("reference")
    if ref is not None and ref not in values and ref != table.get("reference"):
        ref = None
    focus = best if best in values else None
    if focus is None or focus == ref:
        pool = [t for t in trials if t != ref and t not in references] or [t for t in trials if t != ref] or trials

        def mean_bad(t: str) -> float:
            rows = [(v, n[i]) for i in range(k) if not small[i] and (v := value(t, i)) is not None]
            total = sum(w for _, w in rows)
            return sum(_bad(v, direction) * w for v, w in rows) / total if total else math.inf

        focus = min(pool, key=lambda t: (mean_bad(t), pool.index(t)))
    if ref == focus:
        ref = None
    deltas = None
    if ref is not None and table.get("reference") == ref:
        deltas = (table.get("delta_values") or {}).get(focus)

    parts = []
    for trial in [focus] + ([ref] if ref in values and direction is not None else []):
        missing = [i for i in range(k) if not small[i] and value(trial, i) is None]
        if missing:
            listed = _few([where(i) for i in missing], zh)
            parts.append(
                f"{trial} 在 {len(missing)} 个{cells(len(missing))}（{listed}）"
                if zh
                else f"for {trial} in {len(missing)} {cells(len(missing))} ({listed})"
            )
    skipped = None
    if parts:
        skipped = _sentence(
            f"{'，'.join(parts)}没有 {label} 值，已跳过" if zh else f"no {label} {' and '.join(parts)}: skipped", zh
        )
    n_small = sum(1 for i in range(k) if small[i])
    small_note = ""
    if n_small:
        small_note = (
            f"；{n_small} 个{cells(n_small)}少于 {limit} 条光谱，不计入"
            if zh
            else f"; {n_small} {cells(n_small)} with fewer than {limit} spectra not counted"
        )

    count = gain = None
    if ref is not None and direction is not None:
        count, gain = _binned_against(
            focus, ref, deltas, k, small, value, direction, metric, label, where, n, cells, small_note, zh
        )
    extremes = _binned_extremes(focus, k, small, value, direction, metric, label, where, n, cells, limit, zh)
    spread = None
    spreads = table.get("spread_values") or {}
    if direction == "abs" and ref is not None and _finite(spreads.get(ref)) and _finite(spreads.get(focus)):
        a, b = float(spreads[ref]), float(spreads[focus])
        ta, tb = _num(metric, a), _num(metric, b)
        if zh:
            move = "不变，均为" if ta == tb else ("降至" if b < a else "升至")
            spread = f"各{cells(2)} {label} 的离散度（分箱值的标准差）从 {ta}（{ref}）{move} {tb}（{focus}）"
        else:
            spread = (
                f"the spread of {label} across {cells(2)} (std of the bin values) "
                f"{'stays the same' if ta == tb else ('falls' if b < a else 'rises')} from {ta} ({ref}) to {tb} ({focus})"
            )
        spread = _sentence(spread, zh)
    ranking = None
    yardsticks = [t for t in trials if t in references and t not in (focus, ref)]
    if direction is not None and len(trials) > 1 and (ref is None or yardsticks):
        ranking = _binned_ranking(focus, trials, k, small, value, direction, label, cells, zh)
    if direction == "abs":
        order = [spread, count, ranking, extremes, gain] if yardsticks else [spread, count, extremes, gain]
    elif ref is not None:
        order = [count, ranking, gain, extremes] if yardsticks else [count, gain, extremes]
    else:
        order = [extremes, ranking]
    return _cut(order, skipped)


def _binned_against(focus, ref, deltas, k, small, value, direction, metric, label, where, n, cells, small_note, zh):
    """The count of bins the focus trial improves in against the reference, and its largest
    gain (or loss): (count sentence, gain sentence)."""
    rows: list[
        tuple[int, float, Any, Any]
    ] = []  # (bin, improvement > 0 is better, verdict, Δ interval; both None without intervals)
    for i in range(k):
        if small[i]:
            continue
        f, r = value(focus, i), value(ref, i)
        d = deltas[i] if deltas is not None and i < len(deltas) else None
        if deltas is not None:
            verdict = interval_verdict(d, direction, reference_value=r)
            if verdict is None:
                continue
            assert d is not None  # a verdict is given only of an interval
            if direction == "abs":
                if r is None:
                    continue
                step = abs(r) - abs(r + float(d["value"]))
            else:
                step = float(d["value"]) * (1 if direction == "high" else -1)
            rows.append((i, step, verdict, d))
        elif f is not None and r is not None:
            rows.append((i, _bad(r, direction) - _bad(f, direction), None, None))
    if not rows:
        return None, None
    m = len(rows)
    up = sum(1 for _, step, _, _ in rows if step > 0)
    if deltas is not None:
        resolved = sum(1 for *_, v, _ in rows if v[0] == "better")
        marginal = sum(1 for _, step, v, _ in rows if v[0] == "marginal" and step > 0)
        worse = sum(1 for *_, v, _ in rows if v[0] == "worse")
        if zh:
            text = f"{focus} 在 {m} 个{cells(m)}中的 {up} 个优于 {ref}（点估计），其中 {resolved} 个的区间不含 0"
            text += f"，{marginal} 个边缘显著（区间一端 ≈ 0）" if marginal else ""
            text += f"；{worse} 个更差且区间不含 0" if worse else ""
        else:
            text = f"{focus} improves on {ref} in {up} of {m} {cells(m)} (point estimates), the interval excluding 0 in {resolved}"
            text += f" and marginal (an end ≈ 0) in {marginal}" if marginal else ""
            text += f"; it is worse, the interval excluding 0, in {worse}" if worse else ""
    else:
        if zh:
            text = f"按点估计（无区间），{focus} 的 {label} 在 {m} 个{cells(m)}中的 {up} 个优于 {ref}"
        else:
            text = f"{focus} has a better {label} than {ref} in {up} of {m} {cells(m)} (point estimates, no intervals)"
    count = _sentence(text + small_note, zh)
    gain = None
    if deltas is not None:
        pick = max(rows, key=lambda row: (row[1], -row[0])) if up else min(rows, key=lambda row: (row[1], row[0]))
        i, step, verdict, d = pick
        where_ = f"{where(i)}（n = {n[i]}）" if zh else f"{where(i)} (n = {n[i]})"
        if zh:
            head = "相对 {ref} 的最大提升在 {w}" if step > 0 else "相对 {ref} 的最大损失在 {w}"
            text = head.format(ref=ref, w=where_) + f"：Δ {label} {_iv(metric, d)}"
        else:
            head = "the largest gain over {ref} is in {w}" if step > 0 else "the largest loss against {ref} is in {w}"
            text = head.format(ref=ref, w=where_) + f": Δ {label} {_iv(metric, d)}"
        gain = _sentence(text + _verdict_clause(verdict, zh), zh)
    return count, gain


_SUPERLATIVE = {  # (best side, worst side) of a metric's values, in words
    "en": {
        "high": ("highest", "lowest"),
        "low": ("smallest", "largest"),
        "abs": ("smallest", "largest"),
        None: ("lowest", "highest"),
    },
    "zh": {"high": ("最高", "最低"), "low": ("最小", "最大"), "abs": ("最小", "最大"), None: ("最低", "最高")},
}


def _binned_extremes(focus, k, small, value, direction, metric, label, where, n, cells, limit, zh):
    """The best and worst rankable bins of the focus trial, and a too-small bin that holds a
    more extreme value than either."""
    ranked = [i for i in range(k) if not small[i] and value(focus, i) is not None]
    tiny = [i for i in range(k) if small[i] and value(focus, i) is not None]
    key = lambda i: (_bad(value(focus, i), direction), i)  # noqa: E731
    shown_label = "|bias|" if direction == "abs" else label
    words = _SUPERLATIVE["zh" if zh else "en"][direction]

    def at(i: int) -> str:
        return (
            f"{where(i)}（{label} {_num(metric, value(focus, i))}，n = {n[i]}）"
            if zh
            else f"{where(i)} ({label} {_num(metric, value(focus, i))}, n = {n[i]})"
        )

    if len(ranked) >= 2:
        lo, hi = min(ranked, key=key), max(ranked, key=key)
        if direction is None:
            text = (
                f"{focus} 的 {label} 在 {at(hi)} 最高，在 {at(lo)} 最低"
                if zh
                else f"{focus} has its highest {label} in {at(hi)} and its lowest in {at(lo)}"
            )
        elif direction == "abs":
            text = (
                f"{focus} 的 {label} 在 {at(lo)} 最接近零，在 {at(hi)} 离零最远"
                if zh
                else f"{focus}'s {label} is closest to zero in {at(lo)} and farthest from it in {at(hi)}"
            )
        else:  # of the focus's own bins, in words no reader takes for "the best trial in that bin"
            good, bad = words
            text = (
                f"{focus} 自身的 {label} 在 {at(lo)} {good}，在 {at(hi)} {bad}"
                if zh
                else f"across {cells(2)}, {focus}'s own {label} is {good} in {at(lo)} and {bad} in {at(hi)}"
            )
        best_bad, worst_bad = key(lo)[0], key(hi)[0]
    else:
        u = len(ranked)
        text = (
            f"{focus} 只有 {u} 个{cells(u)}不少于 {limit} 条光谱：不排名"
            if zh
            else f"only {u} {cells(u)} of {focus} {'has' if u == 1 else 'have'} at least {limit} spectra: no {cells(1)} is ranked"
        )
        best_bad = min((key(i)[0] for i in ranked), default=math.inf)
        worst_bad = max((key(i)[0] for i in ranked), default=-math.inf)
    notes = []
    if tiny:
        low = min(tiny, key=key)
        high = max(tiny, key=key)
        noted = set()
        for i, side, beyond in ((high, 1, key(high)[0] > worst_bad), (low, 0, key(low)[0] < best_bad)):
            if not beyond or i in noted:
                continue
            noted.add(i)
            word = words[side]
            v = _num(metric, value(focus, i))
            if zh:
                notes.append(
                    f"{word} {shown_label}（{v}）出现在 {where(i)}，该{cells(1)}仅 {n[i]} 条光谱，样本太少，不参与排名"
                )
            else:
                notes.append(
                    f"the {word} {shown_label} ({v}) is in {where(i)}, a {cells(1)} of {n[i]} spectra, too few to rank".replace(
                        " of 1 spectra", " of 1 spectrum"
                    )
                )
    if notes:
        text += ("；" if zh else "; ") + ("；" if zh else "; ").join(notes)
    return _sentence(text, zh)


def _binned_ranking(focus, trials, k, small, value, direction, label, cells, zh):
    """In how many bins the focus trial is the best of all the trials the table shows, and which
    trials are best in the others (a tie goes to the trial shown first)."""
    full = [i for i in range(k) if not small[i] and all(value(t, i) is not None for t in trials)]
    if not full:
        return None
    winners = [min(trials, key=lambda t: (_bad(value(t, i), direction), trials.index(t))) for i in full]
    wins = {t: winners.count(t) for t in trials}
    others = [f"{t} 在 {wins[t]} 个" if zh else f"{t} in {wins[t]}" for t in trials if t != focus and wins[t]]
    m, total = len(full), len(trials)
    if zh:
        text = f"按点估计，{focus} 在 {m} 个{cells(m)}中的 {wins[focus]} 个是 {total} 个试验中 {label} 最好的"
        return _sentence(text + (f"；{'、'.join(others)}" if others else ""), zh)
    text = f"{focus} has the best {label} of the {total} trials in {wins[focus]} of {m} {cells(m)}"
    return _sentence(text + (f"; {', '.join(others)}" if others else "") + " (point estimates)", zh)


# ---------------------------------------------------------------------------------------------
# A comparison of trials (bar and dot figures)


def observe_trials(
    values: Mapping[str, float | None],
    intervals: Mapping[str, Any] | None = None,
    *,
    metric: str,
    best: str | None = None,
    baseline: str | None = None,
    references: Sequence[str] = (),
    ceilings: Sequence[str] = (),
    deltas: Mapping[str, Mapping[str, Any]] | None = None,
    lower_is_better: bool | None = None,
    lang: str = "en",
) -> list[str]:
    """Observations of one metric over trials: the leader and its margin, the best candidate
    against the baseline, and the yardsticks (references: global models; ceilings: Fisher bounds).

    `intervals[trial]` is its 95 % interval, (lo, hi) or {lo, hi}; `deltas[trial]` the paired
    interval of trial − baseline ({value, lo, hi, p_positive}), preferred over two overlapping
    intervals because pairing cancels what the trials share. `best` (default: the best trial
    that is neither the baseline nor a yardstick) is the candidate set against the yardsticks."""
    zh = _check_lang(lang)
    intervals = intervals or {}
    deltas = deltas or {}
    direction = _direction(metric, lower_is_better)
    label = _label(metric)
    yard = set(references) | set(ceilings)
    missing = [t for t, v in values.items() if not _finite(v)]
    have = {t: float(v) for t, v in values.items() if _finite(v)}
    skipped = (
        _sentence(
            f"{_few(missing, zh)} 没有 {label} 值，已跳过" if zh else f"no {label} for {_few(missing, zh)}: skipped", zh
        )
        if missing
        else None
    )
    order = list(have)
    rank = sorted([t for t in order if t not in yard], key=lambda t: (_bad(have[t], direction), order.index(t)))
    iv = {t: _as_interval(intervals.get(t)) for t in have}

    def val(t: str) -> str:
        return _num(metric, have[t])

    def gap(a: str, b: str) -> str:
        return _num(metric, abs(_bad(have[a], direction) - _bad(have[b], direction)))

    def separable(a: str, b: str) -> str:
        """The clause on whether a and b are apart, by the paired Δ when one of them is the baseline."""
        paired = deltas.get(a) if b == baseline else deltas.get(b) if a == baseline else None
        if paired is not None and baseline is not None:  # a paired Δ is against the baseline, a or b
            v = interval_verdict(paired, direction, reference_value=have.get(baseline))
            if v is not None:
                return (
                    f"；Δ {label} {_iv(metric, paired)}" if zh else f"; Δ {label} {_iv(metric, paired)}"
                ) + _verdict_clause(v, zh)
        ov = _overlap(iv.get(a), iv.get(b), direction)
        if ov is None:
            return "；无区间：仅点估计" if zh else "; no intervals: a point estimate"
        if ov:
            return (
                "；两者的 95 % 区间重叠：95 % 水平下不可区分"
                if zh
                else "; their 95 % intervals overlap: not separable at 95 %"
            )
        return "；两者的 95 % 区间不重叠" if zh else "; their 95 % intervals do not overlap"

    sentences: list[str | None] = []
    if not rank:
        return _cut([], skipped)
    top = rank[0]
    compared: set[frozenset] = set()
    if direction is None:
        hi = max(rank, key=lambda t: (have[t], -order.index(t)))
        lo = min(rank, key=lambda t: (have[t], order.index(t)))
        text = (
            f"{label} 在 {hi}（{val(hi)}）最高，在 {lo}（{val(lo)}）最低"
            if zh
            else f"{label} is highest for {hi} ({val(hi)}) and lowest for {lo} ({val(lo)})"
        )
        return _cut([_sentence(text, zh)] if hi != lo else [], skipped)
    if len(rank) == 1:
        sentences.append(
            _sentence(
                f"只有 {top} 有 {label} 值（{val(top)}）：无可比较"
                if zh
                else f"only {top} has a {label} ({val(top)}): nothing to compare",
                zh,
            )
        )
    else:
        second = rank[1]
        compared.add(frozenset((top, second)))
        if top == baseline:  # the first thing to say: nothing beat the baseline
            text = (
                f"没有候选超过基线 {top}（{val(top)}）：最好的 {second} 落后 {gap(second, top)}"
                if zh
                else f"no candidate beats the baseline {top} ({val(top)}): the best, {second}, is {gap(second, top)} behind"
            )
        elif _bad(have[top], direction) == _bad(have[second], direction):
            text = (
                f"{top} 与 {second} 的 {label} 相同（{val(top)}）"
                if zh
                else f"{top} and {second} tie at {label} {val(top)}"
            )
        else:  # the yardsticks ahead of it are drawn beside it: "best" says which it is not ahead of
            above = [r for r in have if r in yard and _bad(have[r], direction) < _bad(have[top], direction)]
            bar = (f"（{'、'.join(above)} 之外）" if zh else f" of all but {_join(above, zh)}") if above else ""
            text = (
                f"{top} 的 {label}{bar} 最好（{val(top)}），领先 {second}（{val(second)}）{gap(top, second)}"
                if zh
                else f"{top} has the best {label}{bar} ({val(top)}), {gap(top, second)} ahead of {second} ({val(second)})"
            )
        sentences.append(_sentence(text + separable(top, second), zh))
    candidates = [t for t in rank if t != baseline]
    cand = best if best in have and best not in yard else (candidates[0] if candidates else None)
    if baseline in have and cand is not None and cand != baseline and frozenset((cand, baseline)) not in compared:
        if _bad(have[cand], direction) < _bad(have[baseline], direction):
            text = (
                f"{cand} 相对基线 {baseline}（{val(baseline)}）领先 {gap(cand, baseline)}"
                if zh
                else f"against the baseline {baseline} ({val(baseline)}), {cand} is {gap(cand, baseline)} ahead"
            )
        else:
            text = (
                f"没有候选超过基线 {baseline}（{val(baseline)}）：最好的 {cand} 落后 {gap(cand, baseline)}"
                if zh
                else f"no candidate beats the baseline {baseline} ({val(baseline)}): the best, {cand}, is {gap(cand, baseline)} behind"
            )
        sentences.append(_sentence(text + separable(cand, baseline), zh))
    clauses = []
    if cand is not None:
        for r in [t for t in have if t in yard]:
            ahead = _bad(have[cand], direction) < _bad(have[r], direction)
            ov = _overlap(iv.get(cand), iv.get(r), direction)
            sep = (
                ""
                if ov is None
                else (
                    ("（区间重叠：95 % 水平下不可区分）" if zh else " (intervals overlap: not separable at 95 %)")
                    if ov
                    else ("（区间不重叠）" if zh else " (intervals do not overlap)")
                )
            )
            if r in ceilings:
                named = "" if r.lower() == "ceiling" else f" {r}"  # a trial called `ceiling`: not "the ceiling ceiling"
                if ahead:
                    clauses.append(
                        f"{cand} 超过了上限 {r}（{val(r)}）：上限或数据有误"
                        if zh
                        else f"{cand} is above the ceiling{named} ({val(r)}): the ceiling or the data is wrong"
                    )
                else:
                    clauses.append(
                        f"{cand} 距上限 {r}（{val(r)}）还差 {gap(cand, r)}"
                        if zh
                        else f"{cand} is {gap(cand, r)} short of the ceiling{named} ({val(r)})"
                    )
            elif ahead:
                clauses.append(
                    (f"{cand} 超过参照 {r}（{val(r)}）" if zh else f"{cand} beats the reference {r} ({val(r)})") + sep
                )
            else:
                clauses.append(
                    (
                        f"参照 {r}（{val(r)}）优于所有候选，领先 {cand} {gap(cand, r)}"
                        if zh
                        else f"the reference {r} ({val(r)}) beats every candidate, {gap(cand, r)} ahead of {cand}"
                    )
                    + sep
                )
    if clauses:
        sentences.append(_sentence(("；" if zh else "; ").join(clauses), zh))
    return _cut(sentences, skipped)


# ---------------------------------------------------------------------------------------------
# Differences against a reference (Δ, ablation and bootstrap figures)


def observe_deltas(
    deltas: Mapping[str, Mapping[str, Any] | None],
    *,
    metric: str,
    reference: str,
    lower_is_better: bool | None = None,
    lang: str = "en",
) -> list[str]:
    """Observations of paired differences trial − reference: which intervals exclude 0 (and on
    which side), which are marginal, which hold 0; each with P(Δ > 0). For bias there is no
    reference value here, so a difference is said to differ, never to improve."""
    zh = _check_lang(lang)
    direction = _direction(metric, lower_is_better)
    if direction == "abs":
        direction = None  # |bias| cannot be read from a signed Δ alone
    label = _label(metric)
    groups: dict[str, list[str]] = {"better": [], "worse": [], "differs": [], "marginal": [], "unresolved": []}
    missing = []
    for trial, d in deltas.items():
        verdict = interval_verdict(d, direction)
        if d is None or verdict is None:  # no verdict without a difference
            missing.append(trial)
            continue
        p = _p(d)
        inner = f"Δ {label} {_iv(metric, d)}" + (f"，{p}" if zh and p else f", {p}" if p else "")
        item = f"{trial}（{inner}）" if zh else f"{trial} ({inner})"
        if verdict[0] == "marginal":
            end = verdict[1]
            item += (
                f"：区间{'下' if end == 'lower' else '上'}端 ≈ 0，边缘显著"
                if zh
                else f": the {end} end of the interval is ≈ 0, marginal"
            )
        groups[verdict[0]].append(item)
    skipped = (
        _sentence(
            f"{_few(missing, zh)} 没有相对 {reference} 的差值区间，已跳过"
            if zh
            else f"no interval against {reference} for {_few(missing, zh)}: skipped",
            zh,
        )
        if missing
        else None
    )
    sentences = []
    for kind in ("better", "worse", "differs", "marginal", "unresolved"):
        items = groups[kind]
        if not items:
            continue
        many = len(items) > 1
        if kind == "marginal":
            sentences.append(
                _sentence(
                    (f"相对 {reference}：" if zh else f"against {reference}, ") + ("；" if zh else "; ").join(items), zh
                )
            )
            continue
        listed = _join(items, zh)
        if zh:
            text = {
                "better": f"{listed} 优于 {reference}：区间不含 0",
                "worse": f"{listed} 差于 {reference}：区间不含 0",
                "differs": f"{listed} 与 {reference} 不同：区间不含 0",
                "unresolved": f"{listed}：区间含 0，95 % 水平下与 {reference} 不可区分",
            }[kind]
        else:
            text = {
                "better": f"{listed} {'improve' if many else 'improves'} on {reference}: the interval excludes 0",
                "worse": f"{listed} {'are' if many else 'is'} worse than {reference}: the interval excludes 0",
                "differs": f"{listed} {'differ' if many else 'differs'} from {reference}: the interval excludes 0",
                "unresolved": f"{listed}: the interval includes 0, not separable from {reference} at 95 %",
            }[kind]
        sentences.append(_sentence(text, zh))
    return _cut(sentences, skipped)


# ---------------------------------------------------------------------------------------------
# Sweeps over one numeric key


def _fmt_x(x: Any) -> str:
    """A swept value as people write it: 2k and 1M for counts, 1e5 for large or small floats."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, int):
        for size, suffix in ((1_000_000, "M"), (1_000, "k")):
            if abs(x) >= size:
                return f"{x / size:.3g}{suffix}"
        return str(x)
    if x == 0 or 1e-2 <= abs(x) < 1e3:
        return f"{x:g}"
    exponent = math.floor(math.log10(abs(x)))
    mantissa = x / 10**exponent
    if round(mantissa, 2) >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:.3g}e{exponent}"


def _short(key: str | None) -> str:
    return (key or "").rsplit(".", 1)[-1]


def _monotone(ys: Sequence[float]) -> str | None:
    """'rises', 'falls' or None: strictly, at every step, over three or more values."""
    if len(ys) < 3:
        return None
    steps = [b - a for a, b in zip(ys, ys[1:])]
    if all(s > 0 for s in steps):
        return "rises"
    if all(s < 0 for s in steps):
        return "falls"
    return None


def observe_sweep(
    points: Sequence[Sequence[Any]],
    *,
    x_key: str,
    metric: str,
    group_key: str | None = None,
    x_label: str | None = None,
    group_label: str | None = None,
    lower_is_better: bool | None = None,
    lang: str = "en",
) -> list[str]:
    """Observations of a metric swept over one numeric key, in one curve or one curve per group.

    `points` are (x, group, value) or (x, group, value, interval), group None for one curve;
    the interval is the point's 95 % interval, (lo, hi) or {lo, hi}. With numeric groups (a
    second swept key, e.g. N beside α) the trend across groups at each x and the drift of the
    optimum are said too. `x_label`/`group_label` name the keys in the sentences (default: the
    key's last part)."""
    zh = _check_lang(lang)
    direction = _direction(metric, lower_is_better)
    label = _label(metric)
    xn = x_label or _short(x_key)
    gn = group_label or _short(group_key) or "group"
    curves: dict[Any, dict[float, tuple[float, tuple[float, float] | None]]] = {}
    dropped = []

    def at(x: Any, g: Any) -> str:
        return f"{xn} = {_fmt_x(x)}" + ("" if g is None else f" @ {gn} = {_fmt_x(g)}")

    for point in points:
        x, g, y = point[0], point[1], point[2]
        interval = _as_interval(point[3]) if len(point) > 3 else None
        if not _finite(x) or not _finite(y):
            dropped.append(at(x, g))
            continue
        curve = curves.setdefault(g, {})
        if x in curve:
            dropped.append(at(x, g) + (" (重复)" if zh else " (repeated)"))
            continue
        curve[x] = (float(y), interval)
    skipped = (
        _sentence(
            f"跳过 {len(dropped)} 个无值的点：{_few(dropped, zh)}"
            if zh
            else f"{len(dropped)} {'point' if len(dropped) == 1 else 'points'} without a usable value skipped: "
            f"{_few(dropped, zh)}",
            zh,
        )
        if dropped
        else None
    )
    groups = list(curves)
    numeric_groups = all(_finite(g) for g in groups)
    if numeric_groups:
        groups.sort()
    sorted_curves = {g: sorted(curves[g].items()) for g in groups}
    if not groups:
        return _cut([], skipped)

    def best_of(g: Any) -> tuple[Any, float, tuple[float, float] | None] | None:
        rows = sorted_curves[g]
        if len(rows) < 2 or direction is None:
            return None
        x, (y, interval) = min(rows, key=lambda r: (_bad(r[1][0], direction), r[0]))
        return x, y, interval

    def edge(g: Any, x: Any) -> str | None:
        xs = [r[0] for r in sorted_curves[g]]
        return "max" if x == xs[-1] else "min" if x == xs[0] else None

    def ends_overlap(rows) -> bool:
        return bool(_overlap(rows[0][1][1], rows[-1][1][1], direction))

    def trend_text(kind: str) -> str:
        return {"rises": "上升", "falls": "下降"}[kind] if zh else kind

    sentences: list[str | None] = []
    if len(groups) == 1:
        g = groups[0]
        rows = sorted_curves[g]
        found = best_of(g)
        if found is not None:
            x, y, interval = found
            where_ = edge(g, x)
            head = (
                f"最佳 {label}（{_num(metric, y)}）在 {xn} = {_fmt_x(x)}"
                if zh
                else f"the best {label} ({_num(metric, y)}) is at {xn} = {_fmt_x(x)}"
            )
            if where_:
                head += (
                    (f"，为扫描的{'最大' if where_ == 'max' else '最小'}值：位于扫描范围边缘，应扩展扫描")
                    if zh
                    else f", the {'largest' if where_ == 'max' else 'smallest'} value swept: at the edge, extend the sweep"
                )
            else:
                lo_x, hi_x = _fmt_x(rows[0][0]), _fmt_x(rows[-1][0])
                head += f"，位于扫描范围 {lo_x}–{hi_x} 之内" if zh else f", inside the swept range {lo_x}–{hi_x}"
                i = [r[0] for r in rows].index(x)
                flat = [rows[j][0] for j in (i - 1, i + 1) if _overlap(interval, rows[j][1][1], direction)]
                if flat:
                    near = _join([f"{xn} = {_fmt_x(v)}" for v in flat], zh)
                    head += f"（与 {near} 在 95 % 水平下不可区分）" if zh else f" (not separable from {near} at 95 %)"
            sentences.append(_sentence(head, zh))
        ys = [r[1][0] for r in rows]
        kind = _monotone(ys)
        if len(rows) < 3:
            sentences.append(
                _sentence(
                    f"{xn} 只有 {len(rows)} 个取值：不作趋势判断"
                    if zh
                    else f"only {len(rows)} {'value' if len(rows) == 1 else 'values'} of {xn}: no trend claimed",
                    zh,
                )
            )
        elif kind is None:
            sentences.append(
                _sentence(
                    f"{label} 随 {xn} 不单调（{len(rows)} 个取值）：不作趋势判断"
                    if zh
                    else f"{label} is not monotone in {xn} ({len(rows)} values): no trend claimed",
                    zh,
                )
            )
        else:
            span = (
                f"{_fmt_x(rows[0][0])} → {_fmt_x(rows[-1][0])}：{_num(metric, ys[0])} → {_num(metric, ys[-1])}"
                if zh
                else f"{_fmt_x(rows[0][0])} → {_fmt_x(rows[-1][0])}: {_num(metric, ys[0])} → {_num(metric, ys[-1])}"
            )
            text = (
                f"{label} 随 {xn} 逐步{trend_text(kind)}（{len(rows)} 个取值，{span}）"
                if zh
                else f"{label} {kind} with {xn} at every step ({len(rows)} values, {span})"
            )
            if ends_overlap(rows):
                text += (
                    "，但两端区间重叠：95 % 水平下不可区分"
                    if zh
                    else ", but the ends' intervals overlap: not separable at 95 %"
                )
            sentences.append(_sentence(text, zh))
        return _cut(sentences, skipped)

    def g_at(g: Any) -> str:
        return f"{gn} = {_fmt_x(g)}"

    # several curves: the optimum per group, the trend across groups, the trend along x
    optima = {g: o for g in groups if (o := best_of(g)) is not None}
    if optima:
        seq = list(optima)
        xs = [optima[g][0] for g in seq]
        listing = (" → " if zh else " → ").join(
            (f"{g_at(g)} 时为 {_fmt_x(optima[g][0])}" if zh else f"{_fmt_x(optima[g][0])} at {g_at(g)}") for g in seq
        )
        drift = None
        if numeric_groups and len(seq) >= 3 and xs[0] != xs[-1]:
            steps = [b - a for a, b in zip(xs, xs[1:])]
            if all(s >= 0 for s in steps):
                drift = "grows"
            elif all(s <= 0 for s in steps):
                drift = "falls"
        if drift:
            text = (
                f"最佳 {xn} 随 {gn} {'增大' if drift == 'grows' else '减小'}：{listing}"
                if zh
                else f"the best {xn} {drift} with {gn}: {listing}"
            )
        else:
            plain = ("，" if zh else ", ").join(
                (f"{g_at(g)} 时为 {_fmt_x(optima[g][0])}" if zh else f"{_fmt_x(optima[g][0])} at {g_at(g)}")
                for g in seq
            )
            text = f"最佳 {xn}：{plain}" if zh else f"the best {xn} is {plain}"
        at_edge = [g for g in seq if edge(g, optima[g][0])]
        if at_edge:
            if len(at_edge) == len(seq) and len(seq) > 1:
                text += (
                    f"；每个 {gn} 都位于边缘：应扩展扫描" if zh else f"; at the edge for every {gn}: extend the sweep"
                )
            else:
                listed = _join([g_at(g) for g in at_edge], zh)
                text += f"；{listed} 时位于边缘：应扩展扫描" if zh else f"; at the edge for {listed}: extend the sweep"
        sentences.append(_sentence(text, zh))
    if numeric_groups:
        xs_all = sorted({x for g in groups for x in curves[g]})
        kinds, overlapping = {}, []
        for x in xs_all:
            rows = [(g, curves[g][x]) for g in groups if x in curves[g]]
            if len(rows) < 3:
                continue
            kinds[x] = _monotone([r[1][0] for r in rows])
            if kinds[x] and ends_overlap(rows):
                overlapping.append(x)
        if kinds:
            sentences.append(_trend_sentence(kinds, label, gn, xn, overlapping, zh))
    kinds, overlapping = {}, []
    for g in groups:
        rows = sorted_curves[g]
        if len(rows) >= 3:
            kinds[g] = _monotone([r[1][0] for r in rows])
            if kinds[g] and ends_overlap(rows):
                overlapping.append(g)
    if kinds:
        sentences.append(_trend_sentence(kinds, label, xn, gn, overlapping, zh))
    elif direction is not None:
        sentences.append(
            _sentence(
                f"每个 {gn} 的 {xn} 取值少于 3 个：不作趋势判断"
                if zh
                else f"fewer than 3 values of {xn} per {gn}: no trend claimed",
                zh,
            )
        )
    return _cut(sentences, skipped)


def _trend_sentence(
    kinds: Mapping[Any, str | None], label: str, along: str, at: str, overlapping: Sequence[Any], zh: bool
) -> str:
    """'R² rises with N at every α', or which curves rise, fall or turn: one curve's shape
    proves nothing of another's, so each is counted."""
    named = lambda values: _join([f"{at} = {_fmt_x(v)}" for v in values], zh)  # noqa: E731
    by_kind: dict[str | None, list[Any]] = {"rises": [], "falls": [], None: []}
    for key, kind in kinds.items():
        by_kind[kind].append(key)
    word = {"rises": "上升", "falls": "下降"} if zh else {"rises": "rises", "falls": "falls"}
    whole = [k for k in ("rises", "falls") if len(by_kind[k]) == len(kinds)]
    if whole:
        k = whole[0]
        text = (
            f"在每个 {at} 下 {label} 都随 {along} {word[k]}（{len(kinds)} 条曲线）"
            if zh
            else f"{label} {k} with {along} at every {at} ({len(kinds)} curves)"
        )
    elif not by_kind["rises"] and not by_kind["falls"]:
        text = (
            f"在任何 {at} 下 {label} 都不随 {along} 单调：不作趋势判断"
            if zh
            else f"{label} is not monotone in {along} at any {at}: no trend claimed"
        )
    else:
        parts = []
        for k in ("rises", "falls"):
            if by_kind[k]:
                parts.append(
                    f"在 {named(by_kind[k])} 时随 {along} {word[k]}"
                    if zh
                    else f"{k} with {along} at {named(by_kind[k])}"
                )
        if by_kind[None]:
            parts.append(f"在 {named(by_kind[None])} 时不单调" if zh else f"not monotone at {named(by_kind[None])}")
        text = (f"{label} " + "；".join(parts)) if zh else (f"{label} " + "; ".join(parts))
    if overlapping:
        text += (
            f"；{named(overlapping)} 时两端区间重叠：95 % 水平下不可区分"
            if zh
            else f"; the ends' intervals overlap at {named(overlapping)}: not separable at 95 %"
        )
    return _sentence(text, zh)


# ---------------------------------------------------------------------------------------------
# Training curves


def observe_curves(runs: Mapping[str, Mapping[str, Any]], *, lang: str = "en") -> list[str]:
    """Where each trial's best epoch fell: `runs[trial]` = {"best": epoch, "run": epochs run,
    "stopped": stopped early, "monitored": "val" or "train" (the loss the best epoch is chosen
    on)}. One sentence per kind: stopped early, still improving at the last epoch, no gain after
    the best epoch."""
    zh = _check_lang(lang)
    loss = {"val": "验证损失" if zh else "validation loss", "train": "训练损失" if zh else "training loss"}
    stopped, last, flat, missing = [], [], [], []
    for trial, r in runs.items():
        best, run = r.get("best"), r.get("run")
        if not (isinstance(best, int) and isinstance(run, int)) or not 1 <= best <= run:
            missing.append(trial)
            continue
        what = loss.get(r.get("monitored") or "val", loss["val"])
        if r.get("stopped"):
            stopped.append(
                f"{trial} 在第 {run} 轮（最佳为第 {best} 轮，{what}）"
                if zh
                else f"{trial} at epoch {run} (best epoch {best}, on the {what})"
            )
        elif best == run:
            last.append((trial, run, what))
        else:
            flat.append((trial, best, run, what))
    sentences = []
    if stopped:
        sentences.append(
            _sentence(f"提前停止：{_join(stopped, zh)}" if zh else f"stopped early: {_join(stopped, zh)}", zh)
        )
    if last:
        items = _join([f"{t}（共 {n} 轮）" if zh else f"{t} ({n} epochs)" for t, n, _ in last], zh)
        whats = sorted({w for *_, w in last})
        what = "、".join(whats) if zh else " / ".join(whats)
        sentences.append(
            _sentence(
                f"{items} 的最佳轮次即最后一轮：{what}仍在下降，增加轮次可能有益"
                if zh
                else f"{items}: the best epoch is the last, the {what} was still falling: more epochs may help",
                zh,
            )
        )
    if flat:
        items = _join(
            [
                f"{t} 在第 {b} 轮（共 {n} 轮），其后 {n - b} 轮{w}未再改善"
                if zh
                else f"{t} at epoch {b} of {n}, no better {w} in the {n - b} after it"
                for t, b, n, w in flat
            ],
            zh,
        )
        sentences.append(_sentence(f"最佳轮次：{items}" if zh else f"the best epoch: {items}", zh))
    skipped = (
        _sentence(
            f"{_few(missing, zh)} 没有可用的最佳轮次，已跳过"
            if zh
            else f"no usable best epoch for {_few(missing, zh)}: skipped",
            zh,
        )
        if missing
        else None
    )
    return _cut(sentences, skipped)
