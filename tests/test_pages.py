"""Propagation: a finished experiment reaches its hub, roadmap and kanban — and nothing else moves.

The notebooks here are real folders of markdown; the experiments' results come from the run
records in their `record` regions, exactly what `research run` leaves behind.
"""

import json
import shutil
from pathlib import Path

import pytest

from engine.cli import main
from engine.errors import DocumentError
from engine.notebook import record
from engine.pages.sync import sync
from engine.text import document

ROOT = Path(__file__).resolve().parents[1]
USER_HUB = ROOT.parent / "shared" / "examples" / "logg_1m_hub.md"


def report(
    notebook: Path,
    name: str,
    *,
    answers=("Q3.1",),
    verdict="pass",
    says="three heads cut log g MAE by 7.7 %",
    mae=0.1992,
    status="done",
    mvp="MVP-1.5",
    gate=None,
    topic="logg_1m",
    last_run="2026-02-01T10:00:00+00:00",
    noise=1.0,
    hub="hubs/hub.md",
    n_train=12000,
    test_select="top 20 % SNR",
) -> Path:
    """A finished report with a run record, as `research run` writes one."""
    conditions = {
        "source": "synthetic",
        "test_source": None,
        "n_train": n_train,
        "n_test": 2000,
        "n_pixels": 4096,
        "noise": noise,
        "test_noise": noise,
        "test_select": test_select,
    }
    path = notebook / "research" / topic / "exp" / f"exp_{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    front = [
        f"id: EXP-{name}",
        f"title: Experiment {name}",
        f"topic: {topic}",
        f"mvp: {mvp}",
        f"status: {status}",
        f"hub: ../../../{hub}",
        "roadmap: ../../../hubs/roadmap.md",
        "kanban: ../../../hubs/kanban.md",
        f"answers: [{', '.join(answers)}]",
        "model: {type: mlp, hidden: [256, 128]}",
        f"noise: {{level: {noise}}}",
        "metrics: [mae.log_g, r2.log_g]",
    ]
    if gate:
        front.append(f"gate: {gate}")
    if last_run:
        front.append(f'last_run: "{last_run}"')
    text = (
        "---\n"
        + "\n".join(front)
        + "\n---\n# Experiment\n\n我写的话。\n\n<!-- research:record -->\n<!-- /research:record -->\n"
    )
    if status == "done":
        rec = {
            "id": f"EXP-{name}",
            "verdict": verdict,
            "says": says,
            "primary": "mae.log_g",
            "best": "equal",
            "baseline": "single",
            "references": [],
            "sets": [],
            "code": "x",
            "spec": record.spec_digest(document.front_matter(text).text),
            "key_numbers": [["best log g MAE", f"{mae:.4f} dex"]],
            "trials": [
                {
                    "name": "single",
                    "model": "mlp",
                    "config": f"mlp(hidden=[256,128]); n_train=12000; noise={noise:g}",
                    "noise": noise,
                    "metrics": {"mae.log_g": 0.2159, "r2.log_g": 0.90},
                    "conditions": conditions,
                },
                {
                    "name": "equal",
                    "model": "mlp",
                    "config": f"mlp(hidden=[256,128]); n_train=12000; noise={noise:g}",
                    "noise": noise,
                    "metrics": {"mae.log_g": mae, "r2.log_g": 0.91},
                    "conditions": conditions,
                },
            ],
        }
        text = document.replace_regions(text, {"record": record.render(rec)})
    path.write_text(text, encoding="utf-8")
    return path


ROADMAP = """# Roadmap

| Gate | 问题 | 规则 | 状态 |
|------|------|------|------|
| Gate-2 | 多任务有用吗？ | MAE 降 ≥ 3% | ⏳ |

| MVP | 实验 | 目标 | 状态 | 结论 |
|-----|------|------|------|------|
| MVP-0.1 | Ridge | 基线 | ⏳ | - |
| MVP-1.5 | 多任务 | 三头 vs 单头 | ⏳ | - |
"""

KANBAN = "# Kanban\n\n<!-- research:board -->\n<!-- /research:board -->\n\n手写的备注。\n"


@pytest.fixture
def notebook(tmp_path):
    (tmp_path / ".research").mkdir()
    hubs = tmp_path / "hubs"
    hubs.mkdir()
    shutil.copy(ROOT / "hubs" / "logg_1m_hub.md", hubs / "hub.md")
    (hubs / "roadmap.md").write_text(ROADMAP, encoding="utf-8")
    (hubs / "kanban.md").write_text(KANBAN, encoding="utf-8")
    return tmp_path


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    a, b = before.splitlines(), after.splitlines()
    assert len(a) == len(b), "lines were added or removed"
    return [(x, y) for x, y in zip(a, b) if x != y]


def outside_regions(text: str) -> list[str]:
    spans = [(r.start_line, r.end_line) for r in document.regions(text).values()]
    return [line for i, line in enumerate(text.splitlines(), 1) if not any(a <= i <= b for a, b in spans)]


@pytest.mark.skipif(not USER_HUB.exists(), reason="needs ../shared/examples")
def test_answering_q3_1_on_the_users_hub_changes_only_its_tree_line_and_answer_row(notebook):
    shutil.copy(USER_HUB, notebook / "hubs" / "hub.md")
    before = (notebook / "hubs" / "hub.md").read_bytes()
    report(notebook, "multitask")
    assert notebook / "hubs" / "hub.md" in sync(notebook)
    after = (notebook / "hubs" / "hub.md").read_bytes()
    changes = changed_lines(before.decode(), after.decode())
    assert len(changes) == 2
    (tree_old, tree_new), (row_old, row_new) = changes
    assert tree_old == "│   ├── Q3.1: 多任务联合是否能拆分因素？ → ⏳ MVP-1.5"
    assert tree_new == "│   ├── Q3.1: 多任务联合是否能拆分因素？ → ✅ three heads cut log g MAE by 7.7 % (MVP-1.5)"
    assert row_old.startswith("| Q3.1: 多任务联合 | 待验证 | ⏳ | If 有效 then 多任务成为必需 |")
    assert row_new == (
        "| Q3.1: 多任务联合 | three heads cut log g MAE by 7.7 % | ✅ | If 有效 then 多任务成为必需 | "
        "[EXP-multitask](../research/logg_1m/exp/exp_multitask.md) |"
    )


def test_the_project_hub_changes_only_the_answer_lines_and_its_owned_regions(notebook):
    hub = notebook / "hubs" / "hub.md"
    before = hub.read_text(encoding="utf-8")
    report(notebook, "multitask")
    sync(notebook)
    after = hub.read_text(encoding="utf-8")
    changes = changed_lines("\n".join(outside_regions(before)), "\n".join(outside_regions(after)))
    assert [new for _, new in changes] == [
        "│   ├── Q3.1: 三头联合训练能否把三个因素分开？ → ✅ three heads cut log g MAE by 7.7 % (MVP-1.5)",
        "| Q3.1: 多任务联合 | three heads cut log g MAE by 7.7 % | ✅ | If 有效 then 默认三头 | "
        "[EXP-multitask](../research/logg_1m/exp/exp_multitask.md) |",
    ]
    regions = document.regions(after)
    assert (
        "| mlp | mae.log_g = 0.1992 dex | 12000 | mlp(hidden=[256,128]); n_train=12000; noise=1 |"
        in regions["leaderboard"].body
    )
    assert "测试集：synthetic test · 2000 spectra · top 20 % SNR · noise 1 · 4096 px" in regions["leaderboard"].body
    assert "Best = 0.1992 dex（mlp · equal" in regions["authoritative"].body
    assert (
        "| best log g MAE | 0.1992 dex | N_train 12000 · synthetic test · 2000 spectra · top 20 % SNR · noise 1 · 4096 px |"
        in regions["key-numbers"].body
    )
    assert "| `EXP-multitask` | 2026-02-01 | ✅ done | ✅ pass |" in regions["experiments"].body
    assert regions["changelog"].body.splitlines()[-1] == (
        "| 2026-02-01 | EXP-multitask：✅ pass — three heads cut log g MAE by 7.7 % | Q3.1 |"
    )
    assert not any(r.edited for r in regions.values())


def test_an_unknown_id_names_the_hub_and_the_closest_ids_and_writes_nothing(notebook, capsys):
    report(notebook, "multitask", answers=("Q3.9",))
    pages = {p: p.read_bytes() for p in (notebook / "hubs").iterdir()}
    with pytest.raises(DocumentError) as caught:
        sync(notebook)
    message = str(caught.value)
    assert "hub.md" in message and "Q3.9" in message and "Q3.1" in message and "Q3.2" in message
    assert {p: p.read_bytes() for p in pages} == pages
    assert main(["sync", str(notebook / "research")]) == 2
    assert "the hub has no question Q3.9" in capsys.readouterr().err


def test_sync_is_idempotent(notebook):
    report(notebook, "multitask")
    report(notebook, "ridge", answers=("Q1.2",), mvp="MVP-0.1", says="Ridge takes R² 0.72", mae=0.48)
    first = sync(notebook)
    assert {p.name for p in first} == {"hub.md", "roadmap.md", "kanban.md"}
    pages = {p: p.read_bytes() for p in first}
    assert sync(notebook) == []
    assert {p: p.read_bytes() for p in pages} == pages


def test_a_rerun_with_the_same_answer_adds_no_changelog_row_and_a_new_answer_adds_one(notebook):
    def changelog() -> list[str]:
        return document.regions((notebook / "hubs" / "hub.md").read_text(encoding="utf-8"))[
            "changelog"
        ].body.splitlines()

    report(notebook, "multitask")
    sync(notebook)
    rows = changelog()
    report(notebook, "multitask", mae=0.1990, last_run="2026-03-01T10:00:00+00:00")  # re-run, same verdict
    sync(notebook)
    assert changelog() == rows
    report(notebook, "multitask", verdict="fail", says="no gain", last_run="2026-04-01T10:00:00+00:00")
    sync(notebook)
    sync(notebook)
    assert changelog() == rows + ["| 2026-04-01 | EXP-multitask：❌ fail — no gain | Q3.1 |"]
    report(notebook, "multitask", verdict="fail", says="no gain at all", last_run="2026-05-01T10:00:00+00:00")
    sync(notebook)
    sync(notebook)  # the same verdict with another answer: the hub's answer changed, so one row
    assert (
        changelog()[-1] == "| 2026-05-01 | EXP-multitask：❌ fail — no gain at all | Q3.1 |"
        and len(changelog()) == len(rows) + 2
    )
    assert rows[:3] == ["| 日期 | 变更 | 影响 |", "|---|---|---|", "| 2026-01-05 | 创建 hub，列出 Q1/Q3/Q4 | - |"]
    hub = (notebook / "hubs" / "hub.md").read_text(encoding="utf-8")
    assert "Q3.1: 三头联合训练能否把三个因素分开？ → ❌ no gain at all (MVP-1.5)" in hub


def test_roadmap_rows_and_kanban_board(notebook):
    report(notebook, "multitask", gate="Gate-2")
    report(notebook, "planned", answers=(), status="planned", mvp="MVP-2.0", last_run=None)
    sync(notebook)
    roadmap = (notebook / "hubs" / "roadmap.md").read_text(encoding="utf-8")
    assert "| MVP-1.5 | 多任务 | 三头 vs 单头 | ✅ | three heads cut log g MAE by 7.7 % |" in roadmap
    assert "| MVP-0.1 | Ridge | 基线 | ⏳ | - |" in roadmap
    assert "| Gate-2 | 多任务有用吗？ | MAE 降 ≥ 3% | ✅ pass |" in roadmap
    kanban = (notebook / "hubs" / "kanban.md").read_text(encoding="utf-8")
    board = document.regions(kanban)["board"].body.splitlines()
    assert board[2].startswith(
        "| ⏳ planned | [Experiment planned](../research/logg_1m/exp/exp_planned.md) | MVP-2.0 | - |"
    )
    assert board[3].startswith(
        "| ✅ done | [Experiment multitask](../research/logg_1m/exp/exp_multitask.md) | MVP-1.5 | ✅ three heads"
    )
    assert kanban.endswith("手写的备注。\n")


def test_status_json_rows_and_staleness(notebook, capsys):
    path = report(notebook, "multitask")
    report(notebook, "planned", answers=(), status="planned", mvp="MVP-2.0", last_run=None)
    assert main(["status", str(notebook), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["EXP-multitask", "EXP-planned"]
    done, planned = rows
    assert set(done) == {
        "id",
        "mvp",
        "status",
        "verdict",
        "metric",
        "value",
        "value_text",
        "last_run",
        "stale",
        "why",
        "path",
        "live",
    }
    assert done["status"] == "done" and done["verdict"] == "pass" and done["metric"] == "mae.log_g"
    assert done["value"] == pytest.approx(0.1992) and done["value_text"] == "0.1992 dex"
    assert done["path"] == "research/logg_1m/exp/exp_multitask.md" and done["mvp"] == "MVP-1.5"
    assert done["stale"] is True and done["why"] == ["code changed"]  # the record says code "x"
    assert planned["status"] == "planned" and planned["verdict"] is None and planned["stale"] is False
    text = path.read_text(encoding="utf-8").replace("hidden: [256, 128]", "hidden: [512, 128]")
    path.write_text(text, encoding="utf-8")
    assert main(["status", str(notebook), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["why"] == ["spec changed", "code changed"]
    assert main(["status", str(notebook)]) == 0
    assert "EXP-multitask" in capsys.readouterr().out


def test_a_comment_or_prose_edit_does_not_make_the_spec_stale():
    text = "id: a\ntitle: one\nmodel: {type: mlp}   # the net\nnoise: {level: 1.0}\n"
    assert record.spec_digest(text) == record.spec_digest(
        text.replace("title: one", "title: two").replace("# the net", "# a net")
    )
    assert record.spec_digest(text) != record.spec_digest(text.replace("level: 1.0", "level: 0.5"))


def test_what_a_model_sees_is_part_of_the_spec_that_decides_the_numbers():
    text = "id: a\ntitle: one\nmodel: {type: ridge}\n"
    with_inputs = text + "inputs: [flux, error]\n"
    assert record.spec_digest(with_inputs) != record.spec_digest(text)
    assert record.spec_digest(with_inputs) != record.spec_digest(text + "inputs: error\n")


def test_the_record_round_trips_through_the_report():
    rec = {"id": "E", "verdict": "pass", "trials": [{"name": "a", "metrics": {"r2.log_g": 0.123456789}}], "sets": []}
    text = "# r\n\n<!-- research:record -->\n<!-- /research:record -->\n"
    filled = document.replace_regions(text, {"record": record.render(rec)})
    assert record.parse(filled) == {**rec, "trials": [{"name": "a", "metrics": {"r2.log_g": 0.123457}}]}
    assert record.render(rec) == record.render(dict(reversed(list(rec.items()))))  # key order does not matter


GOLDEN = Path(__file__).parent / "fixtures" / "digest_logg_1m.md"


DIGEST_HUB = """# Hub

```
🌲 log g
├── Q3: 训练目标
│   ├── Q3.1: 三头能否拆开三个因素？ → ⏳ MVP-1.5
│   └── Q3.2: 学到的权重是否更好？ → ⏳ MVP-1.6
└── Q4: 专家
    └── Q4.1: 九专家能否超过全局 Ridge？ → ⏳ MVP-2.0
```
"""


def test_digest_matches_the_golden_file(notebook, capsys):
    (notebook / "hubs" / "hub.md").write_text(DIGEST_HUB, encoding="utf-8")
    report(notebook, "multitask", last_run="2026-02-01T10:00:00+00:00")
    report(
        notebook,
        "noisy",
        answers=("Q3.2",),
        verdict="fail",
        says="learned weights do not help",
        mae=0.31,
        noise=2.0,
        mvp="MVP-1.6",
        last_run="2026-02-03T10:00:00+00:00",
    )
    report(notebook, "old", answers=(), mae=0.25, last_run="2025-12-01T10:00:00+00:00")
    report(notebook, "other", answers=(), topic="moe", last_run="2026-02-02T10:00:00+00:00")
    sync(notebook)
    out = notebook / "digests" / "logg_1m.md"
    assert main(["digest", "logg_1m", "--since", "2026-01-01", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == GOLDEN.read_text(encoding="utf-8")
    assert main(["digest", "logg_1m", "--since", "yesterday"]) == 2


def test_run_stops_on_an_unknown_id_before_training(notebook, capsys):
    path = notebook / "research" / "t" / "exp" / "exp_t.md"
    path.parent.mkdir(parents=True)
    path.write_text(
        "---\nid: EXP-T\ntitle: t\nhub: ../../../hubs/hub.md\nanswers: [Q3.9]\n"
        "data: {n_train: 50, n_test: 20}\nmodel: {type: ridge}\n---\n# t\n",
        encoding="utf-8",
    )
    before = path.read_bytes()
    assert main(["run", str(path), "--no-commit"]) == 2
    err = capsys.readouterr().err
    assert (
        "'Q3.9' is not in the hypothesis tree" in err
        and "closest ids: " in err
        and "Q3.1" in err
        and "hubs/hub.md" in err
    )
    assert path.read_bytes() == before and not (notebook / ".research" / "runs").exists()


def test_a_hub_ranks_only_numbers_of_one_test_set_together(notebook):
    report(notebook, "multitask")
    report(notebook, "fullset", mae=0.15, test_select=None, n_train=20000, answers=())
    sync(notebook)
    board = document.regions((notebook / "hubs" / "hub.md").read_text(encoding="utf-8"))["leaderboard"].body
    tables = board.split("**mae.log_g**")[1:]
    assert len(tables) == 2  # the top-20 %-SNR test and the full test set apart, each with its own ranking
    full = next(t for t in tables if "top 20 % SNR" not in t.split("\n")[0])
    top = next(t for t in tables if "top 20 % SNR" in t.split("\n")[0])
    assert "0.1500 dex" in full and "0.1500 dex" not in top and "0.1992 dex" in top
    assert "| 20000 |" in full and "| 12000 |" in top
    keys = document.regions((notebook / "hubs" / "hub.md").read_text(encoding="utf-8"))["key-numbers"].body
    assert "N_train 20000" in keys and "N_train 12000" in keys


PAGES_GOLDEN = Path(__file__).parent / "golden" / "pages"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pages_scaffolded_then_synced_match_their_golden_files(tmp_path, lang):
    """Input: the hub, roadmap and kanban `research new` writes (dated 2026-01-01), and three
    reports — a pass answering Q1.1 at MVP-1.0, a fail at MVP-1.1, one still planned. Output: the
    three pages after `sync`, in tests/golden/pages/<lang>/ (RESEARCH_UPDATE_GOLDEN=1 rewrites them)."""
    import datetime as dt

    import golden

    from engine.pages.scaffold import new_page

    (tmp_path / ".research").mkdir()
    (tmp_path / "hubs").mkdir()
    for kind, name in (("hub", "hub.md"), ("roadmap", "roadmap.md"), ("kanban", "kanban.md")):
        page = new_page(kind, "logg_1m", root=tmp_path, hub="hubs/hub.md", date=dt.date(2026, 1, 1), language=lang)
        (tmp_path / "hubs" / name).write_text(page.text, encoding="utf-8")
    report(tmp_path, "multitask", answers=("Q1.1",), mvp="MVP-1.0", last_run="2026-01-02T10:00:00+00:00")
    report(
        tmp_path,
        "weights",
        answers=(),
        verdict="fail",
        says="learned weights do not help",
        mae=0.31,
        mvp="MVP-1.1",
        last_run="2026-01-03T10:00:00+00:00",
    )
    report(tmp_path, "vit", answers=(), status="planned", mvp="MVP-1.2", last_run=None)
    sync(tmp_path)
    pages = ("hub.md", "roadmap.md", "kanban.md")
    got = {name: (tmp_path / "hubs" / name).read_text(encoding="utf-8") for name in pages}
    assert [name for name in pages if not golden.same_file(PAGES_GOLDEN / lang / name, got[name])] == []
