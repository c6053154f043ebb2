"""The MoE example report runs end to end at a tiny size and reaches its hub, roadmap and kanban."""

import shutil
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from engine.cli import main
from engine.data import synth
from engine.notebook import record
from engine.text import document

ROOT = Path(__file__).resolve().parents[1]
REPORT = "research/moe/exp/exp_moe_dual_tower.md"


def test_the_dual_tower_report_fills_in_and_propagates(tmp_path, capsys):
    for name in (REPORT, "hubs/moe_hub.md", "hubs/moe_roadmap.md", "hubs/kanban.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".research").mkdir()
    # the generator's spectra on a coarse grid (512 pixels): the experts' solves stay small
    synth.write_shards(tmp_path / "data", 1500, n_pixels=512, seed=2)
    report = tmp_path / REPORT
    code = main(
        [
            "run",
            str(report),
            "--no-commit",
            "--device",
            "cpu",
            "--set",
            "data.source=../../../data/shard_0/dataset.h5",
            "--set",
            "data.n_train=1000",
            "--set",
            "data.n_test=300",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    text = report.read_text(encoding="utf-8")
    regions = document.regions(text)
    assert regions["summary"].body.startswith("> **")
    assert "| dual-tower" in regions["results"].body and "| global-ridge (reference) |" in regions["results"].body
    assert "**extra.gate_entropy by snr**" in regions["binned"].body and "**r2.log_g by snr**" in regions["binned"].body
    for image in (
        "dual_tower_r2.png",
        "dual_tower_r2_by_snr.png",
        "dual_tower_pred.png",
        "dual_tower_entropy_vs_snr.png",
        "dual_tower_ablation.png",
    ):
        assert (report.parent / "img" / image).stat().st_size > 1000
    rec = record.parse(text)
    assert rec["primary"] == "r2.log_g" and rec["best"] != "global-ridge" and rec["references"] == ["global-ridge"]
    assert {t["model"] for t in rec["trials"]} == {"ridge", "moe"}
    hub = (tmp_path / "hubs/moe_hub.md").read_text(encoding="utf-8")
    mark = {"pass": "✅", "fail": "❌"}.get(rec["verdict"], "🟡")
    assert f"Q6.1: 物理 + 质量双塔门控是否优于只看物理特征？ → {mark} " in hub
    assert "(../research/moe/exp/exp_moe_dual_tower.md)" in (tmp_path / "hubs/kanban.md").read_text(encoding="utf-8")
