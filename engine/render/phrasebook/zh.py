"""The Chinese phrasebook of the key observations (see `engine.render.phrasebook`): the same
phrases as `en`, by name and signature, in the order Chinese puts the same facts.

A phrase returns a clause without its closing 。; `sentence` finishes it and drops the spaces
around full-width punctuation, which the phrases may leave where a name or number meets one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_FULL_WIDTH = re.compile(r"\s*([（），：；。、])\s*")
#: (best side, worst side) of a metric's values, by its direction (as in `en`).
_SUPERLATIVES = {"high": ("最高", "最低"), "low": ("最小", "最大"), "abs": ("最小", "最大"), None: ("最低", "最高")}
_TRENDS = {"rises": "上升", "falls": "下降"}

# ---------------------------------------------------------------------------------------------
# Shared


def heading() -> str:
    return "主要观察："


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return "、".join(items[:-1]) + " 和 " + items[-1]


def _few(items: Sequence[str], most: int = 3) -> str:
    """A list a sentence can carry: the first few, then how many in all."""
    items = list(items)
    if len(items) <= most:
        return _join(items)
    return "、".join(items[:most]) + f" 等 {len(items)} 项"


def sentence(text: str) -> str:
    return _FULL_WIDTH.sub(r"\1", text.strip()) + "。"


def clauses(parts: Sequence[str]) -> str:
    return "；".join(parts)


def _cells(count: int, two_way: bool) -> str:
    return "单元格" if two_way else "分箱"


def one_seed(trials: Sequence[str]) -> str:
    return f"{_few(trials)} 只跑了 1 个种子：训练噪声未测，以上区间只含测试集的抽样误差"


def _end(end: str | None) -> str:
    return "下" if end == "lower" else "上"


def interval_clause(verdict: str, end: str | None) -> str:
    """`interval_verdict`'s verdict: better, worse and differs all exclude 0 (the clause before it
    says which way), and a marginal one names its end ≈ 0."""
    if verdict == "marginal":
        return f"，区间{_end(end)}端 ≈ 0：边缘显著"
    if verdict == "unresolved":
        return "，区间含 0：95 % 水平下不可区分"
    return "，区间不含 0"


# ---------------------------------------------------------------------------------------------
# Binned tables


def missing_in_bins(trial: str, places: Sequence[str], two_way: bool) -> str:
    return f"{trial} 在 {len(places)} 个{_cells(len(places), two_way)}（{_few(places)}）"


def bins_skipped(label: str, parts: Sequence[str]) -> str:
    return f"{'，'.join(parts)}没有 {label} 值，已跳过"


def small_bins_not_counted(count: int, limit: int, two_way: bool) -> str:
    return f"；{count} 个{_cells(count, two_way)}少于 {limit} 条光谱，不计入"


def spread(label: str, two_way: bool, move: str, before: str, reference: str, after: str, focus: str) -> str:
    moves = {"same": "不变，均为", "falls": "降至", "rises": "升至"}
    return f"各{_cells(2, two_way)} {label} 的离散度（分箱值的标准差）从 {before}（{reference}）{moves[move]} {after}（{focus}）"


def improves_in_bins(
    focus: str, reference: str, better: int, of: int, two_way: bool, resolved: int, marginal: int, worse: int
) -> str:
    text = f"{focus} 在 {of} 个{_cells(of, two_way)}中的 {better} 个优于 {reference}（点估计），其中 {resolved} 个的区间不含 0"
    text += f"，{marginal} 个边缘显著（区间一端 ≈ 0）" if marginal else ""
    text += f"；{worse} 个更差且区间不含 0" if worse else ""
    return text


def better_in_bins(focus: str, reference: str, label: str, better: int, of: int, two_way: bool) -> str:
    return f"按点估计（无区间），{focus} 的 {label} 在 {of} 个{_cells(of, two_way)}中的 {better} 个优于 {reference}"


def largest_change(gain: bool, reference: str, place: str, n: int, label: str, delta: str) -> str:
    where = f"{place}（n = {n}）"
    head = f"相对 {reference} 的最大提升在 {where}" if gain else f"相对 {reference} 的最大损失在 {where}"
    return f"{head}：Δ {label} {delta}"


def bin_at(place: str, label: str, value: str, n: int) -> str:
    return f"{place}（{label} {value}，n = {n}）"


def bins_highest_lowest(focus: str, label: str, highest: str, lowest: str) -> str:
    return f"{focus} 的 {label} 在 {highest} 最高，在 {lowest} 最低"


def bins_nearest_farthest(focus: str, label: str, nearest: str, farthest: str) -> str:
    return f"{focus} 的 {label} 在 {nearest} 最接近零，在 {farthest} 离零最远"


def bins_best_worst(focus: str, label: str, two_way: bool, direction: str | None, best: str, worst: str) -> str:
    """Of the focus's own bins (自身), never read as "the best trial in that bin"."""
    good, bad = _SUPERLATIVES[direction]
    return f"{focus} 自身的 {label} 在 {best} {good}，在 {worst} {bad}"


def too_few_to_rank(focus: str, ranked: int, limit: int, two_way: bool) -> str:
    return f"{focus} 只有 {ranked} 个{_cells(ranked, two_way)}不少于 {limit} 条光谱：不排名"


def tiny_bin_extreme(
    direction: str | None, worst: bool, label: str, value: str, place: str, n: int, two_way: bool
) -> str:
    word = _SUPERLATIVES[direction][1 if worst else 0]
    return f"{word} {label}（{value}）出现在 {place}，该{_cells(1, two_way)}仅 {n} 条光谱，样本太少，不参与排名"


def bins_won(
    focus: str, label: str, trials: int, won: int, of: int, two_way: bool, others: Sequence[tuple[str, int]]
) -> str:
    text = f"按点估计，{focus} 在 {of} 个{_cells(of, two_way)}中的 {won} 个是 {trials} 个试验中 {label} 最好的"
    listed = "、".join(f"{trial} 在 {wins} 个" for trial, wins in others)
    return text + (f"；{listed}" if others else "")


# ---------------------------------------------------------------------------------------------
# A comparison of trials


def trials_skipped(label: str, trials: Sequence[str]) -> str:
    return f"{_few(trials)} 没有 {label} 值，已跳过"


def paired_delta(label: str, delta: str) -> str:
    return f"；Δ {label} {delta}"


def overlap_clause(overlap: bool | None) -> str:
    if overlap is None:
        return "；无区间：仅点估计"
    if overlap:
        return "；两者的 95 % 区间重叠：95 % 水平下不可区分"
    return "；两者的 95 % 区间不重叠"


def trials_highest_lowest(label: str, highest: str, highest_value: str, lowest: str, lowest_value: str) -> str:
    return f"{label} 在 {highest}（{highest_value}）最高，在 {lowest}（{lowest_value}）最低"


def only_one(trial: str, label: str, value: str) -> str:
    return f"只有 {trial} 有 {label} 值（{value}）：无可比较"


def nothing_beats_baseline(baseline: str, value: str, best: str, gap: str) -> str:
    return f"没有候选超过基线 {baseline}（{value}）：最好的 {best} 落后 {gap}"


def tie(first: str, second: str, label: str, value: str) -> str:
    return f"{first} 与 {second} 的 {label} 相同（{value}）"


def leads(
    top: str, label: str, yardsticks_ahead: Sequence[str], value: str, second: str, second_value: str, gap: str
) -> str:
    """The yardsticks ahead of the leader are named: "best" says which it is not ahead of."""
    but = f"（{'、'.join(yardsticks_ahead)} 之外）" if yardsticks_ahead else ""
    return f"{top} 的 {label}{but} 最好（{value}），领先 {second}（{second_value}）{gap}"


def ahead_of_baseline(candidate: str, baseline: str, value: str, gap: str) -> str:
    return f"{candidate} 相对基线 {baseline}（{value}）领先 {gap}"


def yardstick_overlap(overlap: bool | None) -> str:
    if overlap is None:
        return ""
    return "（区间重叠：95 % 水平下不可区分）" if overlap else "（区间不重叠）"


def above_ceiling(candidate: str, ceiling: str, value: str) -> str:
    return f"{candidate} 超过了上限 {ceiling}（{value}）：上限或数据有误"


def short_of_ceiling(candidate: str, ceiling: str, value: str, gap: str) -> str:
    return f"{candidate} 距上限 {ceiling}（{value}）还差 {gap}"


def beats_reference(candidate: str, reference: str, value: str) -> str:
    return f"{candidate} 超过参照 {reference}（{value}）"


def reference_beats_all(reference: str, value: str, candidate: str, gap: str) -> str:
    return f"参照 {reference}（{value}）优于所有候选，领先 {candidate} {gap}"


# ---------------------------------------------------------------------------------------------
# Differences against a reference


def delta_item(trial: str, label: str, delta: str, p: str | None, marginal_end: str | None) -> str:
    item = f"{trial}（Δ {label} {delta}" + (f"，{p}" if p else "") + "）"
    return item + (f"：区间{_end(marginal_end)}端 ≈ 0，边缘显著" if marginal_end else "")


def deltas_skipped(reference: str, trials: Sequence[str]) -> str:
    return f"{_few(trials)} 没有相对 {reference} 的差值区间，已跳过"


def marginal_deltas(reference: str, items: Sequence[str]) -> str:
    return f"相对 {reference}：" + "；".join(items)


def deltas_verdict(verdict: str, items: Sequence[str], reference: str) -> str:
    listed = _join(items)
    return {
        "better": f"{listed} 优于 {reference}：区间不含 0",
        "worse": f"{listed} 差于 {reference}：区间不含 0",
        "differs": f"{listed} 与 {reference} 不同：区间不含 0",
        "unresolved": f"{listed}：区间含 0，95 % 水平下与 {reference} 不可区分",
    }[verdict]


# ---------------------------------------------------------------------------------------------
# Sweeps


def repeated(point: str) -> str:
    return point + " (重复)"


def points_skipped(points: Sequence[str]) -> str:
    return f"跳过 {len(points)} 个无值的点：{_few(points)}"


def sweep_best(label: str, value: str, x_name: str, x: str) -> str:
    return f"最佳 {label}（{value}）在 {x_name} = {x}"


def at_sweep_edge(edge: str) -> str:
    return f"，为扫描的{'最大' if edge == 'max' else '最小'}值：位于扫描范围边缘，应扩展扫描"


def inside_sweep(lo: str, hi: str) -> str:
    return f"，位于扫描范围 {lo}–{hi} 之内"


def not_separable_from(points: Sequence[str]) -> str:
    return f"（与 {_join(points)} 在 95 % 水平下不可区分）"


def too_few_values(x_name: str, count: int) -> str:
    return f"{x_name} 只有 {count} 个取值：不作趋势判断"


def not_monotone(label: str, x_name: str, count: int) -> str:
    return f"{label} 随 {x_name} 不单调（{count} 个取值）：不作趋势判断"


def monotone(
    label: str, x_name: str, trend: str, count: int, x_first: str, x_last: str, y_first: str, y_last: str
) -> str:
    return f"{label} 随 {x_name} 逐步{_TRENDS[trend]}（{count} 个取值，{x_first} → {x_last}：{y_first} → {y_last}）"


def ends_overlap() -> str:
    return "，但两端区间重叠：95 % 水平下不可区分"


def optimum_at(group: str, x: str) -> str:
    return f"{group} 时为 {x}"


def optimum_drifts(x_name: str, drift: str, group_name: str, optima: Sequence[str]) -> str:
    return f"最佳 {x_name} 随 {group_name} {'增大' if drift == 'grows' else '减小'}：{' → '.join(optima)}"


def optima(x_name: str, optima: Sequence[str]) -> str:
    return f"最佳 {x_name}：{'，'.join(optima)}"


def edge_for_every(group_name: str) -> str:
    return f"；每个 {group_name} 都位于边缘：应扩展扫描"


def edge_for(groups: Sequence[str]) -> str:
    return f"；{_join(groups)} 时位于边缘：应扩展扫描"


def too_few_values_per_group(x_name: str, group_name: str) -> str:
    return f"每个 {group_name} 的 {x_name} 取值少于 3 个：不作趋势判断"


def trend_everywhere(label: str, trend: str, along: str, at: str, curves: int) -> str:
    return f"在每个 {at} 下 {label} 都随 {along} {_TRENDS[trend]}（{curves} 条曲线）"


def trend_nowhere(label: str, along: str, at: str) -> str:
    return f"在任何 {at} 下 {label} 都不随 {along} 单调：不作趋势判断"


def trend_mixed(label: str, along: str, rises: Sequence[str], falls: Sequence[str], neither: Sequence[str]) -> str:
    parts = [
        f"在 {_join(points)} 时随 {along} {_TRENDS[trend]}"
        for trend, points in (("rises", rises), ("falls", falls))
        if points
    ]
    if neither:
        parts.append(f"在 {_join(neither)} 时不单调")
    return f"{label} " + "；".join(parts)


def ends_overlap_at(points: Sequence[str]) -> str:
    return f"；{_join(points)} 时两端区间重叠：95 % 水平下不可区分"


# ---------------------------------------------------------------------------------------------
# Training curves


def loss(monitored: str) -> str:
    return {"val": "验证损失", "train": "训练损失"}[monitored]


def stopped_at(trial: str, run: int, best: int, loss: str) -> str:
    return f"{trial} 在第 {run} 轮（最佳为第 {best} 轮，{loss}）"


def stopped_early(items: Sequence[str]) -> str:
    return f"提前停止：{_join(items)}"


def run_of(trial: str, run: int) -> str:
    return f"{trial}（共 {run} 轮）"


def best_is_last(runs: Sequence[str], losses: Sequence[str]) -> str:
    return f"{_join(runs)} 的最佳轮次即最后一轮：{'、'.join(losses)}仍在下降，增加轮次可能有益"


def best_before_last(trial: str, best: int, run: int, loss: str) -> str:
    return f"{trial} 在第 {best} 轮（共 {run} 轮），其后 {run - best} 轮{loss}未再改善"


def best_epochs(items: Sequence[str]) -> str:
    return f"最佳轮次：{_join(items)}"


def epochs_skipped(trials: Sequence[str]) -> str:
    return f"{_few(trials)} 没有可用的最佳轮次，已跳过"
