"""The English words of a report's regions (see `engine.render.phrasebook`): the tables' headers,
the sentences under them, the figures' captions, the model notes, how to reproduce the run and
its log row.

As with the key observations, a phrase is a function of facts already computed and formatted
(trial names, metric keys, number strings, markdown links), so each language says the same facts
with the same number strings; `regions_zh` holds the same phrases by name and signature. A name
a phrase sets in bold (`**name**`) comes in already made safe for a table cell.
"""

from __future__ import annotations

from collections.abc import Sequence

# ---------------------------------------------------------------------------------------------
# Shared


def _bold(names: Sequence[str]) -> str:
    return ", ".join(f"**{n}**" for n in names)


def _its(count: int) -> str:
    return "its" if count == 1 else "their"


def labelled(name: str, text: str) -> str:
    """A note under a table, by the trial it is about."""
    return f"**{name}**: {text}"


def warning(name: str, text: str) -> str:
    return f"⚠ **{name}**: {text}."


# ---------------------------------------------------------------------------------------------
# Table headers and cells


def trial_column() -> str:
    return "Trial"


def seeds_column() -> str:
    return "Seeds"


def key_numbers_columns() -> list[str]:
    return ["Metric", "Value", "Seeds"]


def hypotheses_columns() -> list[str]:
    return ["Question", "Result", "Answer"]


def comparisons_columns() -> list[str]:
    return ["Comparison", "Metric", "Δ (a − b)", "95 % CI low", "95 % CI high", "P(Δ > 0)", "Resamples"]


def baseline_mark() -> str:
    return "(baseline)"


def reference_mark() -> str:
    return "(reference)"


def failed() -> str:
    return "failed"


def closed_form() -> str:
    """What stands behind a number no seed moves."""
    return "closed form"


def one_seed_cell() -> str:
    return "1 seed ⚠"


def seeds(low: int, high: int) -> str:
    return f"{low} seeds" if low == high else f"{low}–{high} seeds"


def info_words(words: str, target: str | None, key: str) -> str:
    """An info value in a header or caption: its quantity's words, its target, its key."""
    return f"{words}{f' of {target}' if target else ''} ({key})"


# ---------------------------------------------------------------------------------------------
# Summary


def held(verdict: str, share: str, resamples: int, evidence: str, unmeasured: Sequence[str]) -> str:
    """How often a verdict held over the resamples (also inside an inconclusive verdict's words,
    which the run record keeps in English: `engine.render.decision.inconclusive_words`)."""
    return f"{verdict} holds in {share} of {resamples:,} resamples of {evidence}" + not_measured(unmeasured)


def not_measured(trials: Sequence[str]) -> str:
    """The clause closing a verdict's odds when some trial ran with one seed."""
    return f"; training noise not measured for {', '.join(trials)} (1 seed)" if trials else ""


def decided(held: str) -> str:
    return f"Decided over the joint bootstrap: {held}."


def no_result(baseline: str | None, primary: str, baseline_value: str) -> str:
    tail = f"; baseline **{baseline}** ({primary} = {baseline_value})" if baseline else ""
    return f"No candidate has a result{tail}."


def no_win(best: str, primary: str, best_value: str, baseline: str, baseline_value: str) -> str:
    return (
        f"**No candidate beats the baseline:** the best candidate **{best}** has {primary} = {best_value}, "
        f"the baseline **{baseline}** {baseline_value}."
    )


def best(best: str, primary: str, best_value: str, baseline: str | None, baseline_value: str) -> str:
    tail = f" vs baseline **{baseline}** ({baseline_value})" if baseline else ""
    return f"Best: **{best}** ({primary} = {best_value}){tail}."


def reference_beats(name: str, primary: str, value: str) -> str:
    return f"The reference **{name}** ({primary} = {value}) beats every candidate."


def ceiling_beaten(best: str, best_value: str, name: str, value: str) -> str:
    return (
        f"⚠ **{best}** ({best_value}) is better than the ceiling **{name}** ({value}): suspicious — "
        "check the ceiling's assumptions or the data."
    )


# ---------------------------------------------------------------------------------------------
# Results: the sentences under the table


def repeated(seeded: Sequence[tuple[str, str]]) -> str:
    """The repeated trials with their seeds (`42, 43, 44`)."""
    listed = "; ".join(f"**{name}** {seeds}" for name, seeds in seeded)
    return (
        f"Repeated trials: mean ± standard deviation over the seeds ({listed}); "
        "their intervals resample the seeds as well as the test rows."
    )


def one_seed(names: Sequence[str]) -> str:
    its = _its(len(names))
    return (
        f"⚠ One seed: {_bold(names)} — training noise not measured. Another seed, or another CPU's vector "
        f"kernels, would move {its} numbers by a seed-to-seed spread nobody knows, and {its} intervals hold "
        "the test rows only; `repeats: 3` measures it."
    )


def no_noise(exempt: Sequence[tuple[str, Sequence[str]]]) -> str:
    """The trials no seed moves, grouped by why (the model's own words)."""
    parts = [f"{_bold(names)}, {noise_why(why)}" for why, names in exempt]
    return "No training noise (–): " + "; ".join(parts) + "."


def test_sets(sets: Sequence[tuple[str, str, bool]]) -> str:
    """(name, spectra, primary?) of each named test set."""
    listed = ";".join(
        f" **{name}**{' (primary: the bare metrics)' if primary else ''} {n} spectra" for name, n, primary in sets
    )
    return f"Test sets (a column group each; `r2.log_g@<set>` in rules):{listed}."


def test_set(n: str) -> str:
    return f"Test set: {n} spectra."


def no_win_line(primary: str, best: str, best_value: str, baseline: str, baseline_value: str, tests: str) -> str:
    return (
        f"No candidate beats the baseline by {primary}: the best candidate is **{best}** ({best_value}), "
        f"the baseline **{baseline}** {baseline_value}. {tests} {_timing()}"
    )


def best_line(primary: str, best: str, baseline: str | None, tests: str) -> str:
    tail = f"; baseline: **{baseline}**" if baseline else ""
    return f"Best by {primary}: **{best}**{tail}. {tests} {_timing()}"


def _timing() -> str:
    return "Training time per trial is in the run store (`.research/runs/`)."


def models_chose() -> str:
    return "What the models chose:"


def seed_of(name: str, seed: int, runs: int) -> str:
    """A repeated trial's note is its first seed's."""
    return f"{name} (seed {seed} of {runs})"


def one_value_per_key(key: str, keys: Sequence[str]) -> str:
    return f"holds one value per key ({', '.join(keys)}): name one, e.g. {key}.{keys[0]}"


# ---------------------------------------------------------------------------------------------
# What a model chose (`engine.render.notes`)


def alpha_chosen(chosen: Sequence[tuple[str, str]], how: str | None, path: int) -> str:
    """Ridge's α per target; `how` it was chosen (None: fixed) from a path of `path` values."""
    text = "α = " + ", ".join(f"{t} {a}" for t, a in chosen)
    return text + (f" (chosen by {how} from {path})" if how else " (fixed)")


def alpha_at_end(targets: Sequence[str], first: str, last: str) -> str:
    return (
        f"α of {', '.join(targets)} is at the end of the path [{first} … {last}]: "
        "the best α may lie beyond it; widen `alphas`"
    )


def gate_steps(best: object, run: object, stopped: bool, on: str) -> str:
    return f"gate: best step {best} of {run} full-batch Adam steps{' (stopped early)' if stopped else ''}, on {on}"


def gate_steps_all(run: object) -> str:
    return f"gate: {run} full-batch Adam steps (no early stopping)"


def best_epoch(best: object, run: object, stopped: bool) -> str:
    return f"best epoch {best} of {run}" + (" (stopped early)" if stopped else "")


def experts_from(source: str, fits: object) -> str:
    return f"experts {source}" + (f" ({fits} ridge fits in this trial)" if fits else "")


def stored(model: str | None, of: str) -> str:
    return f"the stored {model or 'model'} of {of}, not retrained"


def probe(head: object, features: object, layer: object, net: object, of: str) -> str:
    return f"probe: {head} on {features} features at {layer} of the {net} of {of}"


def rounds(chosen: Sequence[tuple[str, str]]) -> str:
    return "rounds: " + ", ".join(f"{t} {n}" for t, n in chosen)


def experts_trained(trained: int, bins: int, experts: object, gate: object) -> str:
    return f"{trained} of {bins} {experts} experts trained; gate {gate}"


def experts_untrained(left: Sequence[tuple[int, int]], bins: int) -> str:
    """(bin, training spectra) of each expert left untrained."""
    detail = ", ".join(f"bin {k} ({n} spectra)" for k, n in left)
    return (
        f"{len(left)} of {bins} experts not trained — {detail} had too few training spectra "
        "and route to the nearest expert"
    )


def exact_ceiling(values: Sequence[tuple[str, str]]) -> str:
    return "exact ceiling R² " + ", ".join(f"{t} {v}" for t, v in values)


def data_ceiling(values: Sequence[tuple[str, str]], neighbours: object, parameters: Sequence[str]) -> str:
    listed = ", ".join(f"{t} {v}" for t, v in values)
    return (
        f"ceiling R² {listed}, from the data (derivatives of the noiseless fluxes fitted over "
        f"{neighbours} neighbours in {', '.join(parameters) or '?'})"
    )


def ceiling_fit(chi2: str) -> str:
    return (
        f"the local fits of the ceiling leave χ² {chi2} per pixel (≲ 0.3 when the file lists every "
        "parameter that changes the flux): a parameter missing from the file makes the ceiling too high"
    )


def noise_why(why: str) -> str:
    """Why a model's numbers do not move with its seed (the model's own words, `models.configs`)."""
    return why


# ---------------------------------------------------------------------------------------------
# Binned tables


def binned_title(metric: str, by: str, reference: str | None) -> str:
    delta = f" · Δ = trial − {reference}, with its paired bootstrap 95 % interval" if reference else ""
    return f"**{metric} by {by}**{delta}"


def cell_column(two_way: bool) -> str:
    return "cell" if two_way else "bin"


def bin_column(by: str) -> str:
    return f"{by} bin"


def spread_row() -> str:
    return "std of bin means"


def few_spectra(min_n: int) -> str:
    return (
        f"† fewer than {min_n} spectra: shown in parentheses, left out of the spread, of what rules read "
        "and of the figure's line."
    )


# ---------------------------------------------------------------------------------------------
# Figures


def figure_label(number: int) -> str:
    return f"**Figure {number}.**"


def no_figure() -> str:
    return "no figure"


def missing_figure(kind: str, why: str) -> str:
    return f"(no {kind} figure: {why})"


def standing(primary: str, best: str, baseline: str | None, beaten: bool, ahead: Sequence[str]) -> str:
    """Who is best, in a caption; `beaten`: no candidate beats the baseline."""
    if beaten:
        text = f"no candidate beats the baseline {baseline} by {primary}; the best candidate: {best}"
    else:
        text = f"best by {primary}: {best}"
    if ahead:
        text += f"; the reference {', '.join(ahead)} {'is' if len(ahead) == 1 else 'are'} ahead of every candidate"
    return f" ({text})"


def bars_caption(metrics: Sequence[str], standing: str, intervals: bool, facts: Sequence[tuple[str, str]]) -> str:
    """(metric, its values listed) per metric."""
    said = " with 95 % bootstrap intervals" if intervals else ""
    listed = "; ".join(f"{m}: {values}" for m, values in facts)
    return f"{', '.join(metrics)} per trial{standing}{said}. {listed}."


def bars_alt(metrics: Sequence[str]) -> str:
    return f"{', '.join(metrics)} per trial"


def listing(items: Sequence[str]) -> str:
    """Values in a caption, one after another."""
    return ", ".join(items)


def binned_caption(
    metric: str, by: str, spreads: str, intervals: bool, counts: str, hollow: int, min_n: int, blank: Sequence[str]
) -> str:
    """`hollow`: bins drawn hollow for too few spectra; `blank`: bins with no value."""
    tail = f"; {hollow} with fewer than {min_n} spectra drawn hollow" if hollow else ""
    tail += f"; no value in {by} {', '.join(blank)}" if blank else ""
    bars = "Error bars: 95 % bootstrap intervals. " if intervals else ""
    return f"{metric} in bins of {by}; spread (std of bin means): {spreads}. {bars}Spectra per bin: {counts}{tail}."


def binned_alt(metric: str, by: str) -> str:
    return f"{metric} by {by}"


def no_result_figure() -> str:
    """Why a figure is missing when its kind does not say otherwise."""
    return "the trials it shows have no result"


# binned_delta: each trial's Δ from the table's reference per bin


def top_delta(trial: str, where: str, gain: bool | None) -> str:
    """The bin of a trial's best Δ: its largest gain (`gain`), else its smallest loss; None: a
    metric with no better side (a bias), where its Δ is largest."""
    if gain is None:
        return f"{trial}: largest Δ in {where}"
    return f"{trial}: {'largest gain' if gain else 'smallest loss'} in {where}"


def deltas_caption(metric: str, by: str, reference: str, tops: Sequence[str], counts: str) -> str:
    """`tops`: each trial's `top_delta`."""
    best = f"{', '.join(tops)}. " if tops else ""
    return (
        f"Δ {metric} per {by} bin: each trial − {reference}, with its paired "
        f"bootstrap 95 % interval. {best}Spectra per bin: {counts}."
    )


def deltas_alt(metric: str, by: str) -> str:
    return f"Δ {metric} by {by}"


# bootstrap and ablation: each trial's paired Δ from one other trial


def bootstrap_caption(metric: str, against: str, resamples: int, chances: Sequence[tuple[str, str]]) -> str:
    """(trial, its P(Δ > 0)) per trial."""
    facts = ", ".join(f"{n}: P(Δ > 0) = {p}" for n, p in chances)
    return (
        f"Paired bootstrap distribution of Δ {metric} (trial − {against}, {resamples} resamples; "
        f"the bar above each: its 95 % interval). {facts}."
    )


def bootstrap_alt(metric: str) -> str:
    return f"bootstrap distribution of Δ {metric}"


def ablation_caption(metric: str, against: str, deltas: Sequence[str]) -> str:
    """`deltas`: each trial's Δ with its interval (`cand +0.01 [+0.00, +0.02]`)."""
    return f"Δ {metric} of each trial from {against}, with its paired bootstrap 95 % interval: {', '.join(deltas)}."


def ablation_alt(metric: str, against: str) -> str:
    return f"Δ {metric} vs {against}"


# pred_vs_true, weights, heatmap


def scatter_caption(target: str, trial: str, seed: object, r2: str, n: int) -> str:
    """`seed`: the seed shown of a repeated trial (None: the trial ran once)."""
    who = f"{trial}, seed {seed}" if seed is not None else trial
    return f"Predicted vs true {target} for {who} (R² = {r2}, n = {n})."


def scatter_alt(target: str) -> str:
    return f"predicted vs true {target}"


def weights_caption(means: Sequence[tuple[str, str]]) -> str:
    """(trial, the mean weight of its top expert) per trial."""
    listed = "; ".join(f"{n}: mean weight of the top expert {m}" for n, m in means)
    return f"Distribution of the gate's weight on each expert, per trial. {listed}."


def weights_alt() -> str:
    return "gate weights per expert"


def heatmap_caption(extra: str, by: str) -> str:
    return (
        f"{extra} against {by} per spectrum of the test set, per trial (colour: spectra per cell, "
        f"log scale; line: the median per {by} bin)."
    )


def heatmap_alt(extra: str, by: str) -> str:
    return f"{extra} vs {by}"


# sweep and line: a quantity against a swept key


def sweep_caption(y: str, param: str, points: Sequence[str], own: Sequence[str]) -> str:
    """`points`: the sweep's (`name (x) value`); `own`: the trials apart from it."""
    text = f"{y} against {param}: {', '.join(points)}."
    return text + (f" Apart from the sweep, under their own names: {', '.join(own)}." if own else "")


def sweep_alt(y: str, param: str) -> str:
    return f"{y} vs {param}"


def lines_caption(
    y: str, x: str, group: str, intervals: bool, lines: Sequence[tuple[str, Sequence[str]]], own: Sequence[str]
) -> str:
    """(value of `group`, its points `x value`) per line; `own`: the trials on no line."""
    facts = "; ".join(f"{group} = {g}: " + ", ".join(points) for g, points in lines)
    if own:
        facts += ("; " if facts else "") + "under their own names: " + ", ".join(own)
    bars = " (error bars: 95 % bootstrap intervals)" if intervals else ""
    return f"{y} against {x}, one line per {group}{bars}: {facts}."


def lines_alt(y: str, x: str, group: str) -> str:
    return f"{y} vs {x} by {group}"


def along_notes(y: str, first_seed: bool, missing: Sequence[str], per_key: Sequence[str]) -> str:
    """A sweep or line caption's last sentences: where an info value comes from for a repeated
    trial, the trials left out for want of a number, the keys of a `y` that holds one per key."""
    text = ""
    if first_seed:
        text += " A repeated trial shows its first seed's value, as rules read `trials.<name>.info`."
    if missing:
        text += f" Left out, with no number at {y}: {', '.join(missing)}."
    if per_key:
        text += f" {y_per_key(y, per_key)}."
    return text


def y_per_key(y: str, keys: Sequence[str]) -> str:
    return f"{y} holds one value per key ({', '.join(keys)}): name one, e.g. y: {y}.{keys[0]}"


def no_number(y: str) -> str:
    """Why a sweep or line figure of a metric `y` no trial has is missing."""
    return f"none of the trials it shows has a number for {y}"


def none_reported(y: str, trial: str, reported: Sequence[str]) -> str:
    """Why a figure of an info value no trial reported is missing, and what `trial` did report."""
    return f"none of the trials it shows reported {y}" + (
        f"; {trial} reported {', '.join(reported)}" if reported else ""
    )


# curves: what the nets logged per epoch

_CURVE_WORDS = {"val_loss": "validation loss", "train_loss": "training loss", "lr": "learning rate"}


def _curve_words(series: str) -> str:
    """A curve's name in a sentence: 'validation loss', 'validation R² of log_g'."""
    if series.startswith("val_r2."):
        return f"validation R² of {series.split('.', 1)[1]}"
    return _CURVE_WORDS.get(series, series)


def curves_caption(series: str, runs: Sequence[tuple[str, object, object, bool]], left: Sequence[str]) -> str:
    """(run, best epoch, last epoch, stopped early?) per line of the logged `series`; `left`: the
    runs that logged none."""
    keys = ["dot: the best epoch"] + (["×: stopped early"] if any(s for *_, s in runs) else [])
    keys += ["dashed: the training loss"] if series == "val_loss" else []
    facts = "; ".join(
        f"{n}: best epoch {best} of {last}" + (f", stopped early at epoch {last}" if stopped else "")
        for n, best, last, stopped in runs
    )
    words = _curve_words(series)
    gone = f" Left out, with no {words} per epoch: {', '.join(left)}." if left else ""
    return f"{words[0].upper() + words[1:]} per epoch, one line per trial ({'; '.join(keys)}). {facts}.{gone}"


def curves_alt(series: str) -> str:
    return f"{series} per epoch"


def no_curves() -> str:
    return "none of the trials it shows recorded training curves; the nets do"


# ---------------------------------------------------------------------------------------------
# Reproduce and the log


def code_line(commit: str | None, dirty: bool, version: str, data: str) -> str:
    changes = " (with uncommitted changes)" if dirty else ""
    return f"Code: `{commit or 'not in git'}`{changes} · engine {version} · data `{data}`"


def builds_on(links: Sequence[str]) -> str:
    return f"Builds on: {', '.join(links)} (each must be done and current before this runs)"


def log_event(ran: Sequence[str], cached: int, failed: Sequence[tuple[str, str]], verdict: str | None) -> list[str]:
    """The parts of a run's log row: what ran, how many were cached, what failed, the verdict."""
    parts = [f"ran {', '.join(ran)}"] if ran else []
    parts += [f"{cached} cached"] if cached else []
    parts += [f"{name} failed: {error}" for name, error in failed]
    return parts + ([f"verdict {verdict}"] if verdict is not None else [])


def clauses(parts: Sequence[str]) -> str:
    """Clauses of one line: a log row's parts, a model's notes."""
    return "; ".join(parts)


def ran() -> str:
    return "run"
