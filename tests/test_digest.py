"""`research digest`: the digest as the user writes it — findings by theme with their design
implications, a matrix per noise level with the input as a column, each question's own verdict
(a "no" is refuted, never verified), open questions with priority, planned experiments, questions
for discussion — on every example topic through the CLI, and piece by piece on a notebook made here.

The reports here are markdown with a front matter spec and a `record` region, exactly what
`research run` leaves behind; the hub, roadmap and kanban are pages in the user's format.
"""

from __future__ import annotations

import re
import shutil
import string
from pathlib import Path

import pytest
from conftest import git_notebook

from engine.browse.digest import words
from engine.cli import main
from engine.notebook import record
from engine.pages.implication import deciding_rule
from engine.text import document

ROOT = Path(__file__).resolve().parents[1]
TOPICS = sorted({p.parts[-3] for p in (ROOT / "research").glob("*/exp/*.md")})

# ---------------------------------------------------------------------------------------------
# Every example topic, through the CLI, as a fresh clone has it (no run store)


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    root = tmp_path_factory.mktemp("clone")
    for folder in ("research", "hubs", "templates"):
        shutil.copytree(ROOT / folder, root / folder)
    return git_notebook(root, {".gitignore": ".research/\n"})


def _record(path: Path) -> dict:
    return record.parse(path.read_text(encoding="utf-8"))


def test_there_are_example_topics():
    assert len(TOPICS) >= 3


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("topic", TOPICS)
def test_the_digest_of_every_example_topic(topic, language, clone, monkeypatch, capsys):
    monkeypatch.chdir(clone)
    settings = clone / "research.yaml"
    settings.write_text(f"language: {language}\n", encoding="utf-8")
    try:
        assert main(["digest", topic]) == 0
    finally:
        settings.unlink()
    out = capsys.readouterr().out
    w = words.WORDS[language]
    heads = [w[k] for k in ("findings", "matrices", "hypotheses", "open_questions", "planned", "discussion", "index")]
    assert [h for h in heads if h in out] == heads and sorted(heads, key=out.index) == heads
    reports = sorted((clone / "research").glob(f"{topic}/exp/exp_*.md"))
    for path in reports:
        rec = _record(path)
        assert all(f"| {row[1]} |" in out for row in rec["key_numbers"]), path
        assert f"{rec['verdict']}**" in out  # its sentence
        for qid, verdict in rec["questions"].items():  # each question with its own verdict
            assert re.search(rf"^\| {re.escape(w[verdict])} \| {re.escape(qid)}: ", out, re.M), (qid, verdict)
    noises = {f"{t['conditions']['noise']:g}" for p in reports for t in _record(p)["trials"] if not t.get("of")}
    assert re.findall(r"^### (?:noise|噪声) (\S+)$", out, re.M) == sorted(noises, key=float)
    assert "{" not in out.replace("{{", "")  # no format field left unfilled


def test_an_example_matrix_names_each_trials_input(clone, monkeypatch, capsys):
    monkeypatch.chdir(clone)
    (clone / "research.yaml").write_text("language: en\n", encoding="utf-8")
    try:
        assert main(["digest", "moe"]) == 0
        moe = capsys.readouterr().out
        assert main(["digest", "scaling"]) == 0
        scaling = capsys.readouterr().out
        assert main(["digest", "inputs"]) == 0
        inputs = capsys.readouterr().out
    finally:
        (clone / "research.yaml").unlink()
    rows = {line.split(" | ")[0][2:]: line.split(" | ")[1] for line in moe.splitlines() if line.startswith("| moe")}
    assert rows["moe · dual_tower gate"] == "flux, 4096 px; gate: physical features and 10 error statistics"
    assert rows["moe · quality_only gate"] == "flux, 4096 px; gate: 10 error statistics"
    assert rows["moe · mlp_regression gate"] == "flux, 4096 px; gate: physical line and PCA features"
    assert "| ridge (reference) | flux, 4096 px | 20000 |" in moe
    assert "| lightgbm | flux, means of 8 adjacent pixels (512 features) | 20000 |" in scaling
    assert "| fisher_ceiling (ceiling) | noise-free flux derivatives and the error array |" in scaling
    assert "| cnn | flux, 4096 px | 20000 | synthetic test · 2000 spectra | **0." in scaling  # the best, bold
    # a trial's own `inputs:` in words, not the spec's mapping syntax
    assert "| ridge (reference) | inputs: labels T_eff, Fe_H (2 columns) |" in inputs
    assert "| ridge (reference) | inputs: error (4096 columns) |" in inputs
    assert "| cnn | inputs: flux top-256 (256 columns) |" in inputs
    assert "| mlp | inputs: global (128 columns) |" in inputs


def test_an_unknown_topic_is_bad_input_naming_the_topics(clone, monkeypatch, capsys):
    monkeypatch.chdir(clone)
    assert main(["digest", "mo"]) == 2
    err = capsys.readouterr().err
    assert "no report has `topic: mo`" in err and "did you mean 'moe'?" in err
    assert main(["digest", "nothing"]) == 2
    assert "the topics are: " + ", ".join(TOPICS) in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# A notebook of the user's kind, made here

HUB = """# 🧠 Hub

**👣 下一步**
- 🔴 **P0**：Q2.1 error 输入 → If ΔMAE ≥ 5% then 加权 loss 成为标准

## 1) 🌲 核心假设树
```
🌲 核心: log g 还能多好？
│
├── Q1: 信息量 - 谱里有多少信息？
│   ├── Q1.1: 上限是多少？ → ⏳ MVP-0.2
│   └── Q1.2: 元数据能否预测 log g？ → ⏳ MVP-0.2
├── Q2: 输入表示 - 模型知道哪些像素可信吗？
│   ├── Q2.1: error 作为输入能否提升？ → ⏳ MVP-1.2
│   └── Q2.2: 归一化是否压扁信号？ → ✅ 是，手写的结论 (MVP-1.3)
└── Q3: 训练目标 - log g 被带偏了吗？
    ├── Q3.1: 多任务能否拆分因素？ → ⏳ MVP-1.5
    ├── Q3.2: 学到的权重更好吗？ → ⏳ MVP-1.6
    └── Q3.3: 异方差回归有用吗？ → 🔆 MVP-1.7
```

## 3) 当前答案
| 分支 | 当前答案（1句话） | 置信度 | 决策含义（So what） | 证据 |
|---|---|---|---|---|
| Q1.1: 上限 | 待验证 | ⏳ | If 差距大 then 继续改模型 | MVP-0.2 |
| Q1.2: 元数据 | 待验证 | ⏳ | If 能 then 用元数据 | MVP-0.2 |
| Q3.1: 多任务 | 待验证 | ⏳ | If 有效 then 多任务成为必需 | MVP-1.5 |

## 4) 决策空白
| DG | 我们缺的答案 | 什么结果能关闭它 | 决策规则 |
|---|---|---|---|
| DG1 | 误差是否远大于上限？ | 误差/σ 比值 | If > 2 → 继续改模型 |
| DG2 | | | |
"""

ROADMAP = """# Roadmap

| MVP | 实验 | 目标 | 状态 | 结论 |
|-----|------|------|------|------|
| MVP-0.2 | 基线 | 上限与基线 | ⏳ | - |
| MVP-1.2 | error 输入 | 加权 | ⏳ | - |
| MVP-1.6 | 学习权重 | 不确定性加权 | ⏳ | - |
| MVP-2.0 | 九专家 | 物理分箱 | ⏳ | - |
| MVP-2.1 | 已做完的 | 旧实验 | ✅ | done |
"""

KANBAN = "# Kanban\n\n<!-- research:board -->\n<!-- /research:board -->\n"

LINKS = "hub: ../../../hubs/hub.md\nroadmap: ../../../hubs/roadmap.md\nkanban: ../../../hubs/kanban.md\n"


def conditions(noise=1.0, n_train=20000, select=None):
    return {
        "source": "synthetic",
        "test_source": None,
        "n_train": n_train,
        "n_test": 2000,
        "n_pixels": 4096,
        "noise": noise,
        "test_noise": noise,
        "test_select": select,
    }


def trial(name, model, r2, *, noise=1.0, n_train=20000, stochastic=False, seeds=None, mae=None):
    out = {
        "name": name,
        "model": model,
        "metrics": {"r2.log_g": r2, **({"mae.log_g": mae} if mae is not None else {})},
        "conditions": conditions(noise, n_train),
        "noise": noise,
        "stochastic": stochastic,
    }
    if seeds:
        out["seeds"] = seeds
    return out


def write_report(root: Path, name: str, front: str, rec: dict | None, *, topic="logg") -> Path:
    path = root / "research" / topic / "exp" / f"exp_{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (
        f"---\nid: EXP-{name}\ntitle: Experiment {name}\ntopic: {topic}\n{LINKS}{front}---\n# {name}\n\n我写的话。\n\n"
    )
    text += "<!-- research:record -->\n<!-- /research:record -->\n"
    if rec is not None:
        rec = {"id": f"EXP-{name}", "sets": [], "references": [], **rec}
        text = document.replace_regions(text, {"record": record.render(rec)})
    path.write_text(text, encoding="utf-8")
    return path


BASELINES = """mvp: MVP-0.2
status: done
last_run: "2026-03-01T10:00:00+00:00"
answers: [Q1.1, Q1.2]
implication: put a Fisher ceiling beside every new model
data: {n_train: 20000, n_test: 2000}
model: {type: ridge, alpha: 10000.0}
trials:
  ridge: {}
  lightgbm: {model: {type: lightgbm, features: "binned:8"}}
  ceiling: {model: {type: fisher_ceiling}}
metrics: [r2.log_g]
"""

MOE = """mvp: MVP-3.1
status: done
last_run: "2026-03-03T10:00:00+00:00"
data: {n_train: 20000, n_test: 2000}
model: {type: moe, experts: grid, gate: mlp_regression}
trials:
  global-ridge: {model: {type: ridge, alpha: 10000.0}}
  phys-gate: {}
  dual-tower: {model.gate: dual_tower}
metrics: [r2.log_g]
decision:
  baseline: phys-gate
  references: [global-ridge]
  rules:
    - when: trials['dual-tower'].r2.log_g > baseline.r2.log_g
      verdict: pass
      says: "dual tower {{ trials['dual-tower'].r2.log_g }}"
    - otherwise: fail
      says: no gain
"""

MULTITASK = """mvp: MVP-1.5
status: done
last_run: "2026-03-02T10:00:00+00:00"
answers: [Q3.1]
model: {type: mlp}
implication: this one is not shown, the rule's is
decision:
  rules:
    - when: best.mae.log_g < 0.2
      verdict: pass
      says: "MAE {{ best.mae.log_g }}; three heads"
      implication: make three heads the default
    - otherwise: fail
      says: "MAE {{ best.mae.log_g }}; keep one head"
      implication: keep single-task
"""


def _records() -> dict[str, dict]:
    return {
        "baselines": {
            "verdict": "pass",
            "says": "the ceiling is far above every model",
            "primary": "r2.log_g",
            "best": "lightgbm",
            "questions": {"Q1.1": "verified", "Q1.2": "refuted"},
            "answers": {"Q1.1": "ceiling 0.90, best 0.73", "Q1.2": "no: metadata alone gives R² ≈ 0"},
            "key_numbers": [["ceiling log g R²", "0.9000"], ["best model log g R²", "0.7300"]],
            "standing": {"best": "lightgbm", "beats_baseline": True},
            "trials": [
                trial("ridge", "ridge", 0.70),
                trial("lightgbm", "lightgbm", 0.73, stochastic=True, seeds=[1, 2, 3]),
                trial("ceiling", "fisher_ceiling", 0.90),
            ],
        },
        "multitask": {
            "verdict": "inconclusive",
            "says": "MAE 0.1950 dex; three heads — but only as a point estimate: pass holds in 60 % of 1,000 resamples",
            "confidence": {"point": "pass", "holds": 0.6, "resamples": 1000},
            "primary": "mae.log_g",
            "best": "equal",
            "baseline": "single",
            "questions": {"Q3.1": "inconclusive"},
            "answers": {"Q3.1": "MAE 0.1950 dex; three heads — but only as a point estimate"},
            "key_numbers": [["best log g MAE", "0.1950 dex"]],
            "standing": {"best": "equal", "baseline": "single", "beats_baseline": True},
            "trials": [
                trial("single", "mlp", 0.88, noise=0.1, n_train=5000, mae=0.2010, stochastic=True),
                trial("equal", "mlp", 0.89, noise=0.1, n_train=5000, mae=0.1950, stochastic=True),
                trial("big", "mlp", 0.85, noise=1.0, n_train=50000, mae=0.2400, stochastic=True, seeds=[1, 2]),
            ],
        },
        "moe": {
            "verdict": "pass",
            "says": "dual tower 0.6500",
            "primary": "r2.log_g",
            "best": "dual-tower",
            "baseline": "phys-gate",
            "references": ["global-ridge"],
            "questions": {},
            "key_numbers": [["dual tower log g R²", "0.6500"]],
            "standing": {
                "best": "dual-tower",
                "baseline": "phys-gate",
                "baseline_value": 0.64,
                "beats_baseline": True,
                "references_beating": [["global-ridge", 0.71]],
            },
            "trials": [
                trial("global-ridge", "ridge", 0.71),
                trial("phys-gate", "moe", 0.64, stochastic=True, seeds=[1, 2, 3]),
                trial("dual-tower", "moe", 0.65, stochastic=True, seeds=[1, 2, 3]),
            ],
        },
    }


@pytest.fixture
def nb(tmp_path, monkeypatch):
    """A notebook of one topic: three done reports (baselines, multi-task, MoE), a planned and a
    draft one, a report of another topic, and the hub, roadmap and kanban they link."""
    pages = {
        "hubs/hub.md": HUB,
        "hubs/roadmap.md": ROADMAP,
        "hubs/kanban.md": KANBAN,
        "research.yaml": "language: en\n",
    }
    for name, text in pages.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    recs = _records()
    write_report(tmp_path, "baselines", BASELINES, recs["baselines"])
    write_report(tmp_path, "multitask", MULTITASK, recs["multitask"])
    write_report(tmp_path, "moe", MOE, recs["moe"])
    write_report(tmp_path, "errors", "mvp: MVP-1.2\nstatus: planned\nanswers: [Q2.1]\nmodel: {type: mlp}\n", None)
    write_report(tmp_path, "idea", "mvp: MVP-9.9\nstatus: draft\nanswers: [Q3.2]\nmodel: {type: mlp}\n", None)
    write_report(
        tmp_path,
        "weights",
        'mvp: MVP-1.6\nstatus: done\nlast_run: "2026-03-04T10:00:00+00:00"\nanswers: [Q3.2]\nmodel: {type: mlp}\n',
        {"verdict": "fail", "says": "learned weights do not help", "primary": "r2.log_g", "trials": []},
        topic="other",
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def digest(capsys, *args: str) -> str:
    assert main(["digest", "logg", *args]) == 0
    return capsys.readouterr().out


def section(out: str, head: str) -> str:
    start = out.index(head)
    end = out.find("\n## ", start + 1)
    return out[start : end if end >= 0 else len(out)]


def test_findings_are_grouped_by_mvp_phase_with_the_hubs_questions(nb, capsys):
    out = section(digest(capsys), "## 1. Findings by theme")
    themes = re.findall(r"^### (.+)$", out, re.M)
    assert themes == [
        "MVP-0 · Q1: 信息量 - 谱里有多少信息？",
        "MVP-1 · Q3: 训练目标 - log g 被带偏了吗？",
        "MVP-3",
    ]
    experiments = re.findall(r"^#### \[Experiment (\w+)\]", out, re.M)
    assert experiments == ["baselines", "multitask", "moe"]  # each under its theme; no planned, no draft
    assert out.index("Experiment multitask") > out.index(themes[1]) > out.index("Experiment baselines")
    assert "✅ **pass** — the ceiling is far above every model" in out
    assert "| ceiling log g R² | 0.9000 |" in out


def test_each_experiment_carries_its_design_implication(nb, capsys):
    out = section(digest(capsys), "## 1. Findings by theme")
    parts = re.split(r"^#### ", out, flags=re.M)
    found = {p.split("]")[0].lstrip("["): p for p in parts[1:]}
    assert "**Design implication:** put a Fisher ceiling beside every new model" in found["Experiment baselines"]
    # the deciding rule's implication comes first; inconclusive: only if the result holds
    assert "**Design implication (if the result holds):** make three heads the default" in found["Experiment multitask"]
    assert "not shown" not in out
    assert "**Design implication:** not written yet" in found["Experiment moe"]


def test_one_matrix_per_noise_level_with_input_and_n_train(nb, capsys):
    out = section(digest(capsys), "## 2. Performance matrix")
    assert re.findall(r"^### noise (\S+)$", out, re.M) == ["0.1", "1"]
    low, high = out.split("### noise 1\n")
    assert "| Method | Input | N_train | Test set | mae.log_g | Remark |" in low  # the primary metrics
    assert "| mlp | flux, 4096 px | 5000 | synthetic test · 2000 spectra | 0.1950 dex | equal · " in low  # its best
    assert "0.2010" not in low
    # at noise 1: r2 leads (most experiments' primary); rows of other sizes side by side, N shown
    assert "| Method | Input | N_train | Test set | r2.log_g | mae.log_g | Remark |" in high
    assert "| mlp | flux, 4096 px | 50000 | synthetic test · 2000 spectra | **0.8500** | 0.2400 dex |" in high
    assert "| lightgbm | flux, means of 8 adjacent pixels (512 features) | 20000 |" in high
    assert "| moe · dual_tower gate | flux, 4096 px; gate: physical features and 10 error statistics | 20000 |" in high
    assert "| moe · mlp_regression gate | flux, 4096 px; gate: physical line and PCA features | 20000 |" in high
    # the best candidate bold; a ceiling or a reference never, though higher
    assert high.count("**") == 2
    assert "| fisher_ceiling (ceiling) | noise-free flux derivatives and the error array | 20000 |" in high
    assert "| ridge (reference) | flux, 4096 px | 20000 | synthetic test · 2000 spectra | 0.7100 |" in high
    assert "lightgbm · [EXP-baselines](research/logg/exp/exp_baselines.md) · 3 seeds |" in high


def test_a_no_is_refuted_never_verified_whatever_the_hub_says(nb, capsys):
    # the report passed; its answer to Q1.2 is "no"; the hub still shows ⏳, and Q2.2 is ✅ by hand
    out = section(digest(capsys), "## 3. Hypotheses")
    rows = {m[1]: m[0] for m in re.findall(r"^\| (.+?) \| (Q[\d.]+): ", out, re.M)}
    assert rows == {"Q1.1": "✅ verified", "Q1.2": "❌ refuted (answered no)", "Q3.1": "🟡 inconclusive"}
    assert "| ❌ refuted (answered no) | Q1.2: 元数据能否预测 log g？ | no: metadata alone gives R² ≈ 0 |" in out
    assert out.index("Q1.1") < out.index("Q1.2") < out.index("Q3.1")  # verified, refuted, then the rest


def test_open_questions_come_with_their_priority(nb, capsys):
    out = section(digest(capsys), "## 4. Open questions")
    rows = re.findall(r"^\| (\S+ P\d) \| ([^|]+?) \| ([^|]+?) \| ([^|]+?) \|$", out, re.M)
    assert [(p, q.split(":")[0], s, n) for p, q, s, n in rows] == [
        ("🔴 P0", "Q2.1", "🔆 in progress", "planned: EXP-errors"),  # the hub's next step says P0
        ("🟡 P1", "Q3.1", "🟡 inconclusive in EXP-multitask", "MVP-1.5"),  # a run left it unsettled
        ("🟡 P1", "DG1", "decision gap", "If > 2 → 继续改模型"),
        ("⚪ P2", "Q3.3", "🔆 in progress", "MVP-1.7"),
    ]
    # settled by a report (Q1.1, Q1.2; Q3.2 by another topic's) or by the user's own ✅ (Q2.2): not open
    assert not re.search(r"Q1\.1|Q1\.2|Q2\.2|Q3\.2|DG2", out)


def test_planned_experiments_are_the_kanbans_and_the_roadmaps_pending_mvps(nb, capsys):
    out = section(digest(capsys), "## 5. Planned experiments")
    rows = re.findall(r"^\| (\S+ P\d) \| ([^|]+?) \| (MVP-[\d.]+) \| ([^|]+?) \| ([^|]+?) \|$", out, re.M)
    assert rows == [
        ("🔴 P0", "[Experiment errors](research/logg/exp/exp_errors.md)", "MVP-1.2", "⏳ planned", "Q2.1"),
        ("⚪ P2", "九专家 — 物理分箱", "MVP-2.0", "⏳ on the roadmap, no report yet", "-"),
    ]
    # MVP-0.2 and MVP-1.6 have reports, MVP-2.1 is done, the draft is on no page
    assert "MVP-9.9" not in out and "idea" not in out


def test_the_closing_questions_come_from_the_results(nb, capsys):
    out = section(digest(capsys), "## 6. Questions for discussion")
    asked = re.findall(r"^\d+\. \*\*(\w+)\*\* — (.+)$", out, re.M)
    kinds = [k for k, _ in asked]
    assert kinds == sorted(kinds, key=["Validate", "Risk", "Design", "Decide", "Next"].index)
    text = "\n".join(t for _, t in asked)
    assert "Q3.1 (多任务能否拆分因素？) is inconclusive in EXP-multitask" in text
    assert "In EXP-moe the reference global-ridge (0.7100) beats every candidate" in text
    assert "EXP-moe has no design implication written" in text and "EXP-baselines has no" not in text
    assert "Do these results close DG1 (误差是否远大于上限？)? Its rule: If > 2 → 继续改模型" in text
    assert (
        "In EXP-baselines (noise 1) the best model reaches r2.log_g = 0.7300 (lightgbm) against the ceiling's 0.9000"
        in text
    )
    assert "Which experiment settles Q2.1 (error 作为输入能否提升？) first?" in text


def test_one_question_given_as_a_bare_id_is_one_question(nb, capsys):
    path = nb / "research" / "logg" / "exp" / "exp_multitask.md"
    path.write_text(path.read_text(encoding="utf-8").replace("answers: [Q3.1]", "answers: Q3.1"), encoding="utf-8")
    out = digest(capsys)
    assert "| 🟡 inconclusive | Q3.1: 多任务能否拆分因素？ |" in section(out, "## 3. Hypotheses")
    assert "### MVP-1 · Q3: 训练目标 - log g 被带偏了吗？" in out


def test_since_keeps_later_runs_and_every_plan(nb, capsys):
    out = digest(capsys, "--since", "2026-03-02")
    findings = section(out, "## 1. Findings by theme")
    assert "Experiment baselines" not in findings and "Experiment multitask" in findings
    assert "Experiment errors" in section(out, "## 5. Planned experiments")
    assert "(since 2026-03-02)" in out.splitlines()[1]


def test_the_digest_follows_the_notebooks_language(nb, capsys):
    (nb / "research.yaml").write_text("language: zh\n", encoding="utf-8")
    out = digest(capsys)
    assert out.startswith("# 📰 实验摘要：logg\n")
    assert "## 3. 假设验证" in out and "| ❌ 推翻（答案为否） | Q1.2:" in out
    assert "| 🔴 P0 | Q2.1: error 作为输入能否提升？ | 🔆 进行中 | 计划：EXP-errors |" in out


def test_both_languages_have_the_same_words_with_the_same_fields():
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    assert words.EN.keys() == words.ZH.keys()
    assert {k: fields(v) for k, v in words.EN.items()} == {k: fields(v) for k, v in words.ZH.items()}


# ---------------------------------------------------------------------------------------------
# The design implication: a spec field, the deciding rule's first, carried to the hub


def test_the_deciding_rule_is_found_from_the_records_words():
    rules = [
        {"when": "a", "verdict": "pass", "says": "adds {{ x }} over the gate, {{ y }} at low SNR", "implication": "A"},
        {"when": "b", "verdict": "pass", "says": "adds {{ x }} over the gate, but only {{ y }} at low SNR"},
        {"otherwise": "fail", "says": "no gain"},
    ]
    said = {"verdict": "pass", "says": "adds 0.01 over the gate, but only 0.004 at low SNR"}
    assert deciding_rule(rules, said) is rules[1]  # a placeholder could swallow "but only": the most literal wins
    assert deciding_rule(rules, {"verdict": "pass", "says": "adds 0.01 over the gate, 0.02 at low SNR"}) is rules[0]
    assert deciding_rule(rules, {"verdict": "fail", "says": "no gain"}) is rules[2]
    point = {
        "verdict": "inconclusive",
        "confidence": {"point": "fail"},
        "says": "no gain — but only as a point estimate",
    }
    assert deciding_rule(rules, point) is rules[2]
    assert deciding_rule(rules, {"verdict": "partial", "says": "x"}) is None


def _spec(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "exp.md"
    path.write_text(f"---\nid: EXP-A\ntitle: a\nmodel: {{type: ridge}}\n{extra}---\n# a\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("extra", "line", "words"),
    [
        ('implication: "gain {{ best.r2.log_g }}"\n', 5, "implication: an implication holds no `{{ … }}`"),
        ('implication: "  "\n', 5, "implication: expected the design implication in words"),
        (
            'decision:\n  rules:\n    - otherwise: pass\n      says: ok\n      implication: "{{ x }}"\n',
            9,
            "decision.rules[0].implication: an implication holds no",
        ),
    ],
)
def test_an_implication_is_validated_once_in_the_spec(tmp_path, capsys, extra, line, words):
    assert main(["spec", str(_spec(tmp_path, extra))]) == 2
    err = capsys.readouterr().err
    assert f"exp.md:{line}: {words}" in err


def test_the_schema_documents_the_implication(capsys):
    import json

    assert main(["spec", "--schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "research digest" in schema["properties"]["implication"]["description"]
    rule = next(d for name, d in schema["$defs"].items() if name == "Rule")
    assert "'so what'" in rule["properties"]["implication"]["description"]


def test_an_implication_reaches_the_hubs_so_what_only_for_a_settled_question(nb, capsys):
    hub = nb / "hubs" / "hub.md"
    assert main(["sync", "--dry-run"]) == 0 and main(["sync"]) == 0
    capsys.readouterr()
    rows = {
        line.split(" | ")[0][2:]: line.split(" | ")
        for line in hub.read_text(encoding="utf-8").splitlines()
        if line.startswith("| Q")
    }
    assert rows["Q1.1: 上限"][3] == "put a Fisher ceiling beside every new model"  # verified
    assert rows["Q1.2: 元数据"][3] == "put a Fisher ceiling beside every new model"  # refuted: settled too
    assert rows["Q3.1: 多任务"][3] == "If 有效 then 多任务成为必需"  # inconclusive: the user's plan stays
    assert rows["Q1.1: 上限"][2] == "✅" and rows["Q1.2: 元数据"][2] == "❌"
    before = hub.read_bytes()
    assert main(["sync"]) == 0 and hub.read_bytes() == before  # a second sync changes nothing


def test_a_report_without_an_implication_leaves_the_hub_as_it_was(nb, capsys):
    path = nb / "research" / "logg" / "exp" / "exp_baselines.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("implication: put a Fisher ceiling beside every new model\n", ""),
        encoding="utf-8",
    )
    assert main(["sync"]) == 0
    rows = [
        line for line in (nb / "hubs" / "hub.md").read_text(encoding="utf-8").splitlines() if line.startswith("| Q1.")
    ]
    assert [r.split(" | ")[3] for r in rows] == ["If 差距大 then 继续改模型", "If 能 then 用元数据"]
    assert "ceiling 0.90, best 0.73" in rows[0]  # the answer itself is written as ever


def test_the_matrix_names_the_inputs_a_trial_chose():
    from engine.browse.digest.matrix import trial_input

    for language in ("en", "zh"):
        w = words.WORDS[language]
        chosen = trial_input(
            {"model": {"type": "ridge"}, "inputs": [{"flux": {"top_k": 256}}, "quality"]}, {"n_pixels": 266}, w
        )
        top = w["in_top_k"].format(kind="flux", k=256)  # `flux top-256`, `flux 前 256 个像素`
        assert f"{top} + quality" in chosen and "266" in chosen and "{" not in chosen
        assert trial_input({"model": {"type": "ridge"}, "inputs": "flux"}, {"n_pixels": 4096}, w) == w[
            "in_flux"
        ].format(pixels=4096)
