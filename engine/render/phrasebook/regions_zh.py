"""The Chinese words of a report's regions (see `engine.render.phrasebook`): the same phrases as
`regions_en`, by name and signature. Names, metric keys, numbers, units, paths and commands stay
as they are; only the words around them change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: The models' own reasons why their numbers do not move with the seed (`models.configs`), in
#: Chinese; a reason not listed (a plugin's) is shown as the model wrote it.
_WHY = {
    "a closed form: every seed gives the same numbers": "闭式解，每个种子给出相同的数字",
    "a bound computed from the spectra, not trained": "由光谱算出的上限，不经训练",
    "no sampling (feature_fraction 1, no bagging): every seed grows the same trees": (
        "不抽样（feature_fraction 1，无 bagging），每个种子长出相同的树"
    ),
    "Ridge experts routed by the true bin: a closed form": "按真实分箱路由的 Ridge 专家，闭式解",
}
#: How Ridge chose its α (`alpha_selection`).
_HOW = {"validation": "验证集", "gcv": "GCV"}
#: What the resamples drew (`confidence.Evidence.words`, kept in English in the run record).
_EVIDENCE = re.compile(r"the test rows(?: and (\S+) seeds per trial)?")
#: An info value's quantity words (`quantities.QUANTITIES`).
_WORDS = {
    "chosen α": "选出的 α",
    "best epoch": "最佳 epoch",
    "epochs run": "已训练 epoch 数",
    "trainable parameters": "可训练参数量",
    "receptive field": "感受野",
    "features": "特征数",
}

# ---------------------------------------------------------------------------------------------
# Shared


def _bold(names: Sequence[str]) -> str:
    return "、".join(f"**{n}**" for n in names)


def _evidence(evidence: str) -> str:
    found = _EVIDENCE.fullmatch(evidence)
    if found is None:
        return evidence
    return "测试集样本" + (f"与每个试验的 {found.group(1)} 个种子" if found.group(1) else "")


def labelled(name: str, text: str) -> str:
    return f"**{name}**：{text}"


def warning(name: str, text: str) -> str:
    return f"⚠ **{name}**：{text}。"


# ---------------------------------------------------------------------------------------------
# Table headers and cells


def trial_column() -> str:
    return "试验"


def seeds_column() -> str:
    return "种子数"


def key_numbers_columns() -> list[str]:
    return ["指标", "值", "种子数"]


def hypotheses_columns() -> list[str]:
    return ["验证问题", "结果", "结论"]


def comparisons_columns() -> list[str]:
    return ["比较", "指标", "Δ (a − b)", "95 % CI 下限", "95 % CI 上限", "P(Δ > 0)", "重采样次数"]


def baseline_mark() -> str:
    return "(基线)"


def reference_mark() -> str:
    return "(参照)"


def failed() -> str:
    return "失败"


def closed_form() -> str:
    return "闭式解"


def one_seed_cell() -> str:
    return "1 个种子 ⚠"


def seeds(low: int, high: int) -> str:
    return f"{low} 个种子" if low == high else f"{low}–{high} 个种子"


def info_words(words: str, target: str | None, key: str) -> str:
    said = _WORDS.get(words, words)
    return f"{f'{target} 的' if target else ''}{said} ({key})"


# ---------------------------------------------------------------------------------------------
# Summary


def held(verdict: str, share: str, resamples: int, evidence: str, unmeasured: Sequence[str]) -> str:
    return f"{verdict} 在 {resamples:,} 次重采样（{_evidence(evidence)}）中的 {share} 成立" + not_measured(unmeasured)


def not_measured(trials: Sequence[str]) -> str:
    return f"；{'、'.join(trials)} 的训练噪声未测（1 个种子）" if trials else ""


def decided(held: str) -> str:
    return f"联合 bootstrap 判定：{held}。"


def no_result(baseline: str | None, primary: str, baseline_value: str) -> str:
    tail = f"；基线 **{baseline}**（{primary} = {baseline_value}）" if baseline else ""
    return f"没有候选得到结果{tail}。"


def no_win(best: str, primary: str, best_value: str, baseline: str, baseline_value: str) -> str:
    return (
        f"**没有候选胜过基线：**最好的候选 **{best}** 的 {primary} = {best_value}，"
        f"基线 **{baseline}** 为 {baseline_value}。"
    )


def best(best: str, primary: str, best_value: str, baseline: str | None, baseline_value: str) -> str:
    tail = f"，基线 **{baseline}**（{baseline_value}）" if baseline else ""
    return f"最好：**{best}**（{primary} = {best_value}）{tail}。"


def reference_beats(name: str, primary: str, value: str) -> str:
    return f"参照 **{name}**（{primary} = {value}）优于所有候选。"


def ceiling_beaten(best: str, best_value: str, name: str, value: str) -> str:
    return f"⚠ **{best}**（{best_value}）超过了上限 **{name}**（{value}）：可疑，请检查上限的假设或数据。"


# ---------------------------------------------------------------------------------------------
# Results: the sentences under the table


def repeated(seeded: Sequence[tuple[str, str]]) -> str:
    listed = "；".join(f"**{name}** {seeds}" for name, seeds in seeded)
    return f"重复试验：各种子的均值 ± 标准差（{listed}）；其区间同时重采样种子与测试集样本。"


def one_seed(names: Sequence[str]) -> str:
    return (
        f"⚠ 单种子：{_bold(names)} —— 训练噪声未测。换一个种子，或换一台 CPU 的向量内核，"
        "数字都会移动一个没人知道的种子间离散，区间也只含测试集的抽样误差；`repeats: 3` 可以测出它。"
    )


def no_noise(exempt: Sequence[tuple[str, Sequence[str]]]) -> str:
    parts = [f"{_bold(names)}：{noise_why(why)}" for why, names in exempt]
    return "无训练噪声（–）：" + "；".join(parts) + "。"


def test_sets(sets: Sequence[tuple[str, str, bool]]) -> str:
    listed = "；".join(
        f"**{name}**{'（主测试集：不带后缀的指标）' if primary else ''} {n} 条光谱" for name, n, primary in sets
    )
    return f"测试集（各占一组列；规则中写作 `r2.log_g@<set>`）：{listed}。"


def test_set(n: str) -> str:
    return f"测试集：{n} 条光谱。"


def no_win_line(primary: str, best: str, best_value: str, baseline: str, baseline_value: str, tests: str) -> str:
    return (
        f"按 {primary} 没有候选胜过基线：最好的候选是 **{best}**（{best_value}），"
        f"基线 **{baseline}** 为 {baseline_value}。{tests}{_timing()}"
    )


def best_line(primary: str, best: str, baseline: str | None, tests: str) -> str:
    tail = f"；基线：**{baseline}**" if baseline else ""
    return f"按 {primary} 最好：**{best}**{tail}。{tests}{_timing()}"


def _timing() -> str:
    return "每个试验的训练时间见运行存储（`.research/runs/`）。"


def models_chose() -> str:
    return "模型的选择："


def seed_of(name: str, seed: int, runs: int) -> str:
    return f"{name}（种子 {seed}，共 {runs} 个种子）"


def one_value_per_key(key: str, keys: Sequence[str]) -> str:
    return f"每个键各有一个值（{', '.join(keys)}）：请指定其一，例如 {key}.{keys[0]}"


# ---------------------------------------------------------------------------------------------
# What a model chose (`engine.render.notes`)


def alpha_chosen(chosen: Sequence[tuple[str, str]], how: str | None, path: int) -> str:
    text = "α = " + ", ".join(f"{t} {a}" for t, a in chosen)
    return text + (f"（由{_HOW.get(how, how)}从 {path} 个候选值中选出）" if how else "（固定）")


def alpha_at_end(targets: Sequence[str], first: str, last: str) -> str:
    return f"{', '.join(targets)} 的 α 落在路径端点 [{first} … {last}]：最佳 α 可能在路径之外；请放宽 `alphas`"


def gate_steps(best: object, run: object, stopped: bool, on: str) -> str:
    return f"门控：最佳步为第 {best} 步（共 {run} 步全批量 Adam{'，提前停止' if stopped else ''}），在 {on} 上"


def gate_steps_all(run: object) -> str:
    return f"门控：{run} 步全批量 Adam（不提前停止）"


def best_epoch(best: object, run: object, stopped: bool) -> str:
    return f"最佳 epoch 为第 {best} 个（共 {run} 个{'，提前停止' if stopped else ''}）"


def experts_from(source: str, fits: object) -> str:
    return f"专家来自 {source}" + (f"（本试验中拟合了 {fits} 个 ridge）" if fits else "")


def stored(model: str | None, of: str) -> str:
    return f"{of} 存储的 {model or '模型'}，未重新训练"


def probe(head: object, features: object, layer: object, net: object, of: str) -> str:
    return f"探针：{head} 读 {of} 的 {net} 在 {layer} 的 {features} 个特征"


def rounds(chosen: Sequence[tuple[str, str]]) -> str:
    return "轮数：" + ", ".join(f"{t} {n}" for t, n in chosen)


def experts_trained(trained: int, bins: int, experts: object, gate: object) -> str:
    return f"{bins} 个 {experts} 专家中训练了 {trained} 个；门控 {gate}"


def experts_untrained(left: Sequence[tuple[int, int]], bins: int) -> str:
    detail = "、".join(f"分箱 {k}（{n} 条光谱）" for k, n in left)
    return f"{bins} 个专家中有 {len(left)} 个未训练：{detail}的训练光谱太少，路由到最近的专家"


def exact_ceiling(values: Sequence[tuple[str, str]]) -> str:
    return "精确上限 R² " + ", ".join(f"{t} {v}" for t, v in values)


def data_ceiling(values: Sequence[tuple[str, str]], neighbours: object, parameters: Sequence[str]) -> str:
    listed = ", ".join(f"{t} {v}" for t, v in values)
    return (
        f"上限 R² {listed}，由数据估计（无噪声流量的导数，在 {', '.join(parameters) or '?'} 中"
        f"用 {neighbours} 个近邻拟合）"
    )


def ceiling_fit(chi2: str) -> str:
    return f"上限的局部拟合每像素留下 χ² {chi2}（文件列出所有改变流量的参数时应 ≲ 0.3）：文件缺少某个参数会使上限偏高"


def noise_why(why: str) -> str:
    return _WHY.get(why, why)


# ---------------------------------------------------------------------------------------------
# Binned tables


def binned_title(metric: str, by: str, reference: str | None) -> str:
    delta = f" · Δ = 试验 − {reference}，附配对 bootstrap 95 % 区间" if reference else ""
    return f"**{metric}，按 {by} 分箱**{delta}"


def cell_column(two_way: bool) -> str:
    return "单元格" if two_way else "分箱"


def bin_column(by: str) -> str:
    return f"{by} 分箱"


def spread_row() -> str:
    return "各分箱均值的标准差"


def few_spectra(min_n: int) -> str:
    return f"† 少于 {min_n} 条光谱：加括号显示，不计入离散度、规则读取的数值和图中的折线。"


# ---------------------------------------------------------------------------------------------
# Figures


def figure_label(number: int) -> str:
    return f"**图 {number}.**"


def no_figure() -> str:
    return "无图"


def missing_figure(kind: str, why: str) -> str:
    return f"（没有 {kind} 图：{why}）"


def standing(primary: str, best: str, baseline: str | None, beaten: bool, ahead: Sequence[str]) -> str:
    if beaten:
        text = f"按 {primary} 没有候选胜过基线 {baseline}；最好的候选：{best}"
    else:
        text = f"按 {primary} 最好：{best}"
    if ahead:
        text += f"；参照 {'、'.join(ahead)} 领先所有候选"
    return f"（{text}）"


def bars_caption(metrics: Sequence[str], standing: str, intervals: bool, facts: Sequence[tuple[str, str]]) -> str:
    said = "，附 95 % bootstrap 区间" if intervals else ""
    listed = "；".join(f"{m}：{values}" for m, values in facts)
    return f"各试验的 {'、'.join(metrics)}{standing}{said}。{listed}。"


def bars_alt(metrics: Sequence[str]) -> str:
    return f"各试验的 {'、'.join(metrics)}"


def listing(items: Sequence[str]) -> str:
    return "，".join(items)


def binned_caption(
    metric: str, by: str, spreads: str, intervals: bool, counts: str, hollow: int, min_n: int, blank: Sequence[str]
) -> str:
    tail = f"；其中 {hollow} 个少于 {min_n} 条光谱，画为空心" if hollow else ""
    tail += f"；{by} {'、'.join(blank)} 无数值" if blank else ""
    bars = "误差棒：95 % bootstrap 区间。" if intervals else ""
    return f"{metric}，按 {by} 分箱；离散度（各分箱均值的标准差）：{spreads}。{bars}每个分箱的光谱数：{counts}{tail}。"


def binned_alt(metric: str, by: str) -> str:
    return f"{metric}，按 {by} 分箱"


def no_result_figure() -> str:
    return "它所画的试验都没有结果"


# binned_delta: each trial's Δ from the table's reference per bin


def top_delta(trial: str, where: str, gain: bool | None) -> str:
    if gain is None:
        return f"{trial}：Δ 在 {where} 最大"
    return f"{trial}：{'最大提升' if gain else '最小损失'}在 {where}"


def deltas_caption(metric: str, by: str, reference: str, tops: Sequence[str], counts: str) -> str:
    best = f"{'；'.join(tops)}。" if tops else ""
    return (
        f"各 {by} 分箱的 Δ {metric}：各试验 − {reference}，附配对 bootstrap 95 % 区间。"
        f"{best}每个分箱的光谱数：{counts}。"
    )


def deltas_alt(metric: str, by: str) -> str:
    return f"Δ {metric}，按 {by} 分箱"


# bootstrap and ablation: each trial's paired Δ from one other trial


def bootstrap_caption(metric: str, against: str, resamples: int, chances: Sequence[tuple[str, str]]) -> str:
    facts = "；".join(f"{n}：P(Δ > 0) = {p}" for n, p in chances)
    return (
        f"Δ {metric}（试验 − {against}，{resamples} 次重采样）的配对 bootstrap 分布；"
        f"每个分布上方的横条为其 95 % 区间。{facts}。"
    )


def bootstrap_alt(metric: str) -> str:
    return f"Δ {metric} 的 bootstrap 分布"


def ablation_caption(metric: str, against: str, deltas: Sequence[str]) -> str:
    return f"各试验相对 {against} 的 Δ {metric}，附配对 bootstrap 95 % 区间：{'；'.join(deltas)}。"


def ablation_alt(metric: str, against: str) -> str:
    return f"相对 {against} 的 Δ {metric}"


# pred_vs_true, weights, heatmap


def scatter_caption(target: str, trial: str, seed: object, r2: str, n: int) -> str:
    who = f"{trial}（种子 {seed}）的" if seed is not None else f"{trial} 的"
    return f"{who} {target} 预测值对真值（R² = {r2}，n = {n}）。"


def scatter_alt(target: str) -> str:
    return f"{target} 预测值对真值"


def weights_caption(means: Sequence[tuple[str, str]]) -> str:
    listed = "；".join(f"{n}：权重最高的专家的平均权重 {m}" for n, m in means)
    return f"各试验中门控分给每个专家的权重的分布。{listed}。"


def weights_alt() -> str:
    return "各专家的门控权重"


def heatmap_caption(extra: str, by: str) -> str:
    return f"各试验测试集每条光谱的 {extra} 对 {by}（颜色：每个单元格的光谱数，对数刻度；线：每个 {by} 分箱的中位数）。"


def heatmap_alt(extra: str, by: str) -> str:
    return f"{extra} 对 {by}"


# sweep and line: a quantity against a swept key


def sweep_caption(y: str, param: str, points: Sequence[str], own: Sequence[str]) -> str:
    text = f"{y} 随 {param} 的变化：{'，'.join(points)}。"
    return text + (f"扫描之外、以各自名称列出：{'，'.join(own)}。" if own else "")


def sweep_alt(y: str, param: str) -> str:
    return f"{y} 对 {param}"


def lines_caption(
    y: str, x: str, group: str, intervals: bool, lines: Sequence[tuple[str, Sequence[str]]], own: Sequence[str]
) -> str:
    facts = "；".join(f"{group} = {g}：" + "，".join(points) for g, points in lines)
    if own:
        facts += ("；" if facts else "") + "以各自名称列出：" + "，".join(own)
    bars = "（误差棒：95 % bootstrap 区间）" if intervals else ""
    return f"{y} 随 {x} 的变化，每个 {group} 一条线{bars}：{facts}。"


def lines_alt(y: str, x: str, group: str) -> str:
    return f"{y} 对 {x}，按 {group} 分线"


def along_notes(y: str, first_seed: bool, missing: Sequence[str], per_key: Sequence[str]) -> str:
    text = ""
    if first_seed:
        text += "重复试验显示其第一个种子的值，与规则读取 `trials.<name>.info` 时相同。"
    if missing:
        text += f"未画出（{y} 没有数值）：{'、'.join(missing)}。"
    if per_key:
        text += f"{y_per_key(y, per_key)}。"
    return text


def y_per_key(y: str, keys: Sequence[str]) -> str:
    return f"{y} 每个键各有一个值（{', '.join(keys)}）：请指定其一，例如 y: {y}.{keys[0]}"


def no_number(y: str) -> str:
    return f"它所画的试验都没有 {y} 的数值"


def none_reported(y: str, trial: str, reported: Sequence[str]) -> str:
    return f"它所画的试验都没有报告 {y}" + (f"；{trial} 报告了 {', '.join(reported)}" if reported else "")


# curves: what the nets logged per epoch

_CURVE_WORDS = {"val_loss": "验证损失", "train_loss": "训练损失", "lr": "学习率"}


def _curve_words(series: str) -> str:
    if series.startswith("val_r2."):
        return f"{series.split('.', 1)[1]} 的验证 R²"
    return _CURVE_WORDS.get(series, series)


def curves_caption(series: str, runs: Sequence[tuple[str, object, object, bool]], left: Sequence[str]) -> str:
    keys = ["圆点：最佳 epoch"] + (["×：提前停止"] if any(s for *_, s in runs) else [])
    keys += ["虚线：训练损失"] if series == "val_loss" else []
    facts = "；".join(
        f"{n}：最佳 epoch 为第 {best} 个（共 {last} 个）" + (f"，在第 {last} 个 epoch 提前停止" if stopped else "")
        for n, best, last, stopped in runs
    )
    words = _curve_words(series)
    gone = f"未画出（没有每个 epoch 的{words}）：{'、'.join(left)}。" if left else ""
    return f"每个 epoch 的{words}，每个试验一条线（{'；'.join(keys)}）。{facts}。{gone}"


def curves_alt(series: str) -> str:
    return f"每个 epoch 的 {series}"


def no_curves() -> str:
    return "它所画的试验都没有记录训练曲线；只有神经网络会记录"


# ---------------------------------------------------------------------------------------------
# Reproduce and the log


def code_line(commit: str | None, dirty: bool, version: str, data: str) -> str:
    changes = "（含未提交的改动）" if dirty else ""
    return f"代码：`{commit or '不在 git 中'}`{changes} · engine {version} · 数据 `{data}`"


def builds_on(links: Sequence[str]) -> str:
    return f"前置实验：{'、'.join(links)}（每个都须已完成且为最新，本实验才会运行）"


def log_event(ran: Sequence[str], cached: int, failed: Sequence[tuple[str, str]], verdict: str | None) -> list[str]:
    parts = [f"运行 {', '.join(ran)}"] if ran else []
    parts += [f"{cached} 个来自缓存"] if cached else []
    parts += [f"{name} 失败：{error}" for name, error in failed]
    return parts + ([f"结论 {verdict}"] if verdict is not None else [])


def clauses(parts: Sequence[str]) -> str:
    return "；".join(parts)


def ran() -> str:
    return "运行"
