"""Key observations: the two or three sentences under a figure or a binned table that say what
its numbers show, by fixed rules, so that a sentence never claims more than the numbers hold.

    observe_binned(table, best="mlp", baseline="classify")        # a `binned_table` dict
    observe_trials({"mlp": 0.931, ...}, {"mlp": (0.92, 0.94)}, metric="r2.log_g", baseline=...)
    observe_deltas({"mlp": {"value": .., "lo": .., "hi": .., "p_positive": ..}}, metric=.., reference=..)
    observe_sweep([(x, group, value, interval), ...], x_key="model.alpha", metric="r2.log_g")
    observe_curves({"mlp": {"best": 7, "run": 10, "stopped": True, "monitored": "val"}})
    render(sentences)                                             # "- …\\n- …\\n"

Pure: numbers in, sentences out. The rules here decide what is said and format its numbers
(`render.fmt_metric`); the words are the phrasebook's of `lang` (`engine.render.phrasebook`, one
module per language with the same phrases), so English and Chinese (`lang="zh"`) state the same
facts with the same number strings, and no rule asks which language it writes.

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
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any, TypeGuard

from engine.notebook.config import LANGS
from engine.render.phrasebook import BOOKS
from engine.render.quantities import QUANTITIES, direction
from engine.render.templates import fmt_metric
from engine.spec.vocabulary import METRICS, split_test

MAX_SENTENCES = 3
NEAR_ZERO = 0.05  # an interval's end is ≈ 0 within this fraction of the interval's width
HEADINGS = {lang: book.heading() for lang, book in BOOKS.items()}

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


def _phrasebook(lang: str) -> ModuleType:
    """The words of `lang`: every rule says what it found through them, never in a language of its own."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    return BOOKS[lang]


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


def heading(lang: str = "en") -> str:
    """The line that introduces the observations under a figure or a table."""
    return _phrasebook(lang).heading()


def one_seed(trials: Sequence[str], lang: str = "en") -> str | None:
    """The caveat under numbers of trials whose training noise nobody measured (one run of a
    seeded model): their intervals hold the test rows only, so no sentence above can say more."""
    if not trials:
        return None
    say = _phrasebook(lang)
    return say.sentence(say.one_seed(trials))


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
    say = _phrasebook(lang)
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
            parts.append(say.missing_in_bins(trial, [where(i) for i in missing], two_way))
    skipped = say.sentence(say.bins_skipped(label, parts)) if parts else None
    n_small = sum(1 for i in range(k) if small[i])
    small_note = say.small_bins_not_counted(n_small, limit, two_way) if n_small else ""

    count = gain = None
    if ref is not None and direction is not None:
        count, gain = _binned_against(
            focus, ref, deltas, k, small, value, direction, metric, label, where, n, two_way, small_note, say
        )
    extremes = _binned_extremes(focus, k, small, value, direction, metric, label, where, n, two_way, limit, say)
    spread = None
    spreads = table.get("spread_values") or {}
    if direction == "abs" and ref is not None and _finite(spreads.get(ref)) and _finite(spreads.get(focus)):
        a, b = float(spreads[ref]), float(spreads[focus])
        ta, tb = _num(metric, a), _num(metric, b)
        move = "same" if ta == tb else ("falls" if b < a else "rises")
        spread = say.sentence(say.spread(label, two_way, move, ta, ref, tb, focus))
    ranking = None
    yardsticks = [t for t in trials if t in references and t not in (focus, ref)]
    if direction is not None and len(trials) > 1 and (ref is None or yardsticks):
        ranking = _binned_ranking(focus, trials, k, small, value, direction, label, two_way, say)
    if direction == "abs":
        order = [spread, count, ranking, extremes, gain] if yardsticks else [spread, count, extremes, gain]
    elif ref is not None:
        order = [count, ranking, gain, extremes] if yardsticks else [count, gain, extremes]
    else:
        order = [extremes, ranking]
    return _cut(order, skipped)


def _binned_against(focus, ref, deltas, k, small, value, direction, metric, label, where, n, two_way, small_note, say):
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
        text = say.improves_in_bins(focus, ref, up, m, two_way, resolved, marginal, worse)
    else:
        text = say.better_in_bins(focus, ref, label, up, m, two_way)
    count = say.sentence(text + small_note)
    gain = None
    if deltas is not None:
        pick = max(rows, key=lambda row: (row[1], -row[0])) if up else min(rows, key=lambda row: (row[1], row[0]))
        i, step, verdict, d = pick
        text = say.largest_change(step > 0, ref, where(i), n[i], label, _iv(metric, d))
        gain = say.sentence(text + say.interval_clause(*verdict))
    return count, gain


def _binned_extremes(focus, k, small, value, direction, metric, label, where, n, two_way, limit, say):
    """The best and worst rankable bins of the focus trial, and a too-small bin that holds a
    more extreme value than either."""
    ranked = [i for i in range(k) if not small[i] and value(focus, i) is not None]
    tiny = [i for i in range(k) if small[i] and value(focus, i) is not None]
    key = lambda i: (_bad(value(focus, i), direction), i)  # noqa: E731
    shown_label = "|bias|" if direction == "abs" else label

    def at(i: int) -> str:
        return say.bin_at(where(i), label, _num(metric, value(focus, i)), n[i])

    if len(ranked) >= 2:
        lo, hi = min(ranked, key=key), max(ranked, key=key)
        if direction is None:
            text = say.bins_highest_lowest(focus, label, at(hi), at(lo))
        elif direction == "abs":
            text = say.bins_nearest_farthest(focus, label, at(lo), at(hi))
        else:
            text = say.bins_best_worst(focus, label, two_way, direction, at(lo), at(hi))
        best_bad, worst_bad = key(lo)[0], key(hi)[0]
    else:
        text = say.too_few_to_rank(focus, len(ranked), limit, two_way)
        best_bad = min((key(i)[0] for i in ranked), default=math.inf)
        worst_bad = max((key(i)[0] for i in ranked), default=-math.inf)
    notes = []
    if tiny:
        low = min(tiny, key=key)
        high = max(tiny, key=key)
        noted = set()
        for i, worst, beyond in ((high, True, key(high)[0] > worst_bad), (low, False, key(low)[0] < best_bad)):
            if not beyond or i in noted:
                continue
            noted.add(i)
            v = _num(metric, value(focus, i))
            notes.append(say.tiny_bin_extreme(direction, worst, shown_label, v, where(i), n[i], two_way))
    return say.sentence(say.clauses([text, *notes]))


def _binned_ranking(focus, trials, k, small, value, direction, label, two_way, say):
    """In how many bins the focus trial is the best of all the trials the table shows, and which
    trials are best in the others (a tie goes to the trial shown first)."""
    full = [i for i in range(k) if not small[i] and all(value(t, i) is not None for t in trials)]
    if not full:
        return None
    winners = [min(trials, key=lambda t: (_bad(value(t, i), direction), trials.index(t))) for i in full]
    wins = {t: winners.count(t) for t in trials}
    others = [(t, wins[t]) for t in trials if t != focus and wins[t]]
    return say.sentence(say.bins_won(focus, label, len(trials), wins[focus], len(full), two_way, others))


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
    say = _phrasebook(lang)
    intervals = intervals or {}
    deltas = deltas or {}
    direction = _direction(metric, lower_is_better)
    label = _label(metric)
    yard = set(references) | set(ceilings)
    missing = [t for t, v in values.items() if not _finite(v)]
    have = {t: float(v) for t, v in values.items() if _finite(v)}
    skipped = say.sentence(say.trials_skipped(label, missing)) if missing else None
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
                return say.paired_delta(label, _iv(metric, paired)) + say.interval_clause(*v)
        return say.overlap_clause(_overlap(iv.get(a), iv.get(b), direction))

    sentences: list[str | None] = []
    if not rank:
        return _cut([], skipped)
    top = rank[0]
    compared: set[frozenset] = set()
    if direction is None:
        hi = max(rank, key=lambda t: (have[t], -order.index(t)))
        lo = min(rank, key=lambda t: (have[t], order.index(t)))
        text = say.trials_highest_lowest(label, hi, val(hi), lo, val(lo))
        return _cut([say.sentence(text)] if hi != lo else [], skipped)
    if len(rank) == 1:
        sentences.append(say.sentence(say.only_one(top, label, val(top))))
    else:
        second = rank[1]
        compared.add(frozenset((top, second)))
        if top == baseline:  # the first thing to say: nothing beat the baseline
            text = say.nothing_beats_baseline(top, val(top), second, gap(second, top))
        elif _bad(have[top], direction) == _bad(have[second], direction):
            text = say.tie(top, second, label, val(top))
        else:
            above = [r for r in have if r in yard and _bad(have[r], direction) < _bad(have[top], direction)]
            text = say.leads(top, label, above, val(top), second, val(second), gap(top, second))
        sentences.append(say.sentence(text + separable(top, second)))
    candidates = [t for t in rank if t != baseline]
    cand = best if best in have and best not in yard else (candidates[0] if candidates else None)
    if baseline in have and cand is not None and cand != baseline and frozenset((cand, baseline)) not in compared:
        if _bad(have[cand], direction) < _bad(have[baseline], direction):
            text = say.ahead_of_baseline(cand, baseline, val(baseline), gap(cand, baseline))
        else:
            text = say.nothing_beats_baseline(baseline, val(baseline), cand, gap(cand, baseline))
        sentences.append(say.sentence(text + separable(cand, baseline)))
    clauses = []
    if cand is not None:
        for r in [t for t in have if t in yard]:
            ahead = _bad(have[cand], direction) < _bad(have[r], direction)
            sep = say.yardstick_overlap(_overlap(iv.get(cand), iv.get(r), direction))
            if r in ceilings:
                clauses.append(
                    say.above_ceiling(cand, r, val(r)) if ahead else say.short_of_ceiling(cand, r, val(r), gap(cand, r))
                )
            elif ahead:
                clauses.append(say.beats_reference(cand, r, val(r)) + sep)
            else:
                clauses.append(say.reference_beats_all(r, val(r), cand, gap(cand, r)) + sep)
    if clauses:
        sentences.append(say.sentence(say.clauses(clauses)))
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
    say = _phrasebook(lang)
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
        marginal_end = verdict[1] if verdict[0] == "marginal" else None
        groups[verdict[0]].append(say.delta_item(trial, label, _iv(metric, d), _p(d), marginal_end))
    skipped = say.sentence(say.deltas_skipped(reference, missing)) if missing else None
    sentences = []
    for kind in ("better", "worse", "differs", "marginal", "unresolved"):
        items = groups[kind]
        if not items:
            continue
        if kind == "marginal":
            sentences.append(say.sentence(say.marginal_deltas(reference, items)))
        else:
            sentences.append(say.sentence(say.deltas_verdict(kind, items, reference)))
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
    say = _phrasebook(lang)
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
            dropped.append(say.repeated(at(x, g)))
            continue
        curve[x] = (float(y), interval)
    skipped = say.sentence(say.points_skipped(dropped)) if dropped else None
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

    sentences: list[str | None] = []
    if len(groups) == 1:
        g = groups[0]
        rows = sorted_curves[g]
        found = best_of(g)
        if found is not None:
            x, y, interval = found
            where_ = edge(g, x)
            head = say.sweep_best(label, _num(metric, y), xn, _fmt_x(x))
            if where_:
                head += say.at_sweep_edge(where_)
            else:
                head += say.inside_sweep(_fmt_x(rows[0][0]), _fmt_x(rows[-1][0]))
                i = [r[0] for r in rows].index(x)
                flat = [rows[j][0] for j in (i - 1, i + 1) if _overlap(interval, rows[j][1][1], direction)]
                if flat:
                    head += say.not_separable_from([f"{xn} = {_fmt_x(v)}" for v in flat])
            sentences.append(say.sentence(head))
        ys = [r[1][0] for r in rows]
        kind = _monotone(ys)
        if len(rows) < 3:
            sentences.append(say.sentence(say.too_few_values(xn, len(rows))))
        elif kind is None:
            sentences.append(say.sentence(say.not_monotone(label, xn, len(rows))))
        else:
            ends = (_fmt_x(rows[0][0]), _fmt_x(rows[-1][0]), _num(metric, ys[0]), _num(metric, ys[-1]))
            text = say.monotone(label, xn, kind, len(rows), *ends)
            if ends_overlap(rows):
                text += say.ends_overlap()
            sentences.append(say.sentence(text))
        return _cut(sentences, skipped)

    def g_at(g: Any) -> str:
        return f"{gn} = {_fmt_x(g)}"

    # several curves: the optimum per group, the trend across groups, the trend along x
    optima = {g: o for g in groups if (o := best_of(g)) is not None}
    if optima:
        seq = list(optima)
        xs = [optima[g][0] for g in seq]
        listing = [say.optimum_at(g_at(g), _fmt_x(optima[g][0])) for g in seq]
        drift = None
        if numeric_groups and len(seq) >= 3 and xs[0] != xs[-1]:
            steps = [b - a for a, b in zip(xs, xs[1:])]
            if all(s >= 0 for s in steps):
                drift = "grows"
            elif all(s <= 0 for s in steps):
                drift = "falls"
        text = say.optimum_drifts(xn, drift, gn, listing) if drift else say.optima(xn, listing)
        at_edge = [g for g in seq if edge(g, optima[g][0])]
        if at_edge:
            if len(at_edge) == len(seq) and len(seq) > 1:
                text += say.edge_for_every(gn)
            else:
                text += say.edge_for([g_at(g) for g in at_edge])
        sentences.append(say.sentence(text))
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
            sentences.append(_trend_sentence(kinds, label, gn, xn, overlapping, say))
    kinds, overlapping = {}, []
    for g in groups:
        rows = sorted_curves[g]
        if len(rows) >= 3:
            kinds[g] = _monotone([r[1][0] for r in rows])
            if kinds[g] and ends_overlap(rows):
                overlapping.append(g)
    if kinds:
        sentences.append(_trend_sentence(kinds, label, xn, gn, overlapping, say))
    elif direction is not None:
        sentences.append(say.sentence(say.too_few_values_per_group(xn, gn)))
    return _cut(sentences, skipped)


def _trend_sentence(
    kinds: Mapping[Any, str | None], label: str, along: str, at: str, overlapping: Sequence[Any], say: ModuleType
) -> str:
    """'R² rises with N at every α', or which curves rise, fall or turn: one curve's shape
    proves nothing of another's, so each is counted."""
    named = lambda values: [f"{at} = {_fmt_x(v)}" for v in values]  # noqa: E731
    by_kind: dict[str | None, list[Any]] = {"rises": [], "falls": [], None: []}
    for key, kind in kinds.items():
        by_kind[kind].append(key)
    whole = [k for k in ("rises", "falls") if len(by_kind[k]) == len(kinds)]
    if whole:
        text = say.trend_everywhere(label, whole[0], along, at, len(kinds))
    elif not by_kind["rises"] and not by_kind["falls"]:
        text = say.trend_nowhere(label, along, at)
    else:
        text = say.trend_mixed(label, along, named(by_kind["rises"]), named(by_kind["falls"]), named(by_kind[None]))
    if overlapping:
        text += say.ends_overlap_at(named(overlapping))
    return say.sentence(text)


# ---------------------------------------------------------------------------------------------
# Training curves

_MONITORED = frozenset({"val", "train"})  # the losses a trainer picks its best epoch on; "val" unless it says


def observe_curves(runs: Mapping[str, Mapping[str, Any]], *, lang: str = "en") -> list[str]:
    """Where each trial's best epoch fell: `runs[trial]` = {"best": epoch, "run": epochs run,
    "stopped": stopped early, "monitored": "val" or "train" (the loss the best epoch is chosen
    on)}. One sentence per kind: stopped early, still improving at the last epoch, no gain after
    the best epoch."""
    say = _phrasebook(lang)
    stopped, last, flat, missing = [], [], [], []
    for trial, r in runs.items():
        best, run = r.get("best"), r.get("run")
        if not (isinstance(best, int) and isinstance(run, int)) or not 1 <= best <= run:
            missing.append(trial)
            continue
        monitored = r.get("monitored") or "val"
        what = say.loss(monitored if monitored in _MONITORED else "val")
        if r.get("stopped"):
            stopped.append(say.stopped_at(trial, run, best, what))
        elif best == run:
            last.append((trial, run, what))
        else:
            flat.append((trial, best, run, what))
    sentences = []
    if stopped:
        sentences.append(say.sentence(say.stopped_early(stopped)))
    if last:
        losses = sorted({w for *_, w in last})  # in the report's words, as they are listed
        sentences.append(say.sentence(say.best_is_last([say.run_of(t, n) for t, n, _ in last], losses)))
    if flat:
        sentences.append(say.sentence(say.best_epochs([say.best_before_last(t, b, n, w) for t, b, n, w in flat])))
    skipped = say.sentence(say.epochs_skipped(missing)) if missing else None
    return _cut(sentences, skipped)
