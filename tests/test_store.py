"""The run store: content-addressed, whole records or none, and why a trial runs again."""

import numpy as np

from engine.notebook.store import RunStore, TrialRecord, key_parts


def test_the_key_depends_on_config_data_and_code_only():
    a = key_parts({"model": {"type": "ridge", "alpha": 1.0}}, "data1", "code1")
    same = key_parts({"model": {"alpha": 1.0, "type": "ridge"}}, "data1", "code1")  # key order is irrelevant
    assert a.key == same.key
    assert key_parts({"model": {"type": "ridge", "alpha": 2.0}}, "data1", "code1").key != a.key
    assert key_parts({"model": {"type": "ridge", "alpha": 1.0}}, "data2", "code1").key != a.key


def test_the_reason_a_trial_runs_again():
    before = key_parts({"x": 1}, "d", "c")
    record = {"config": before.config, "data": before.data, "code": before.code}
    assert key_parts({"x": 2}, "d", "c").reason_against(record) == "spec changed"
    assert key_parts({"x": 1}, "d2", "c").reason_against(record) == "data changed"
    assert key_parts({"x": 1}, "d", "c2").reason_against(record) == "code changed"
    assert before.reason_against(None) == "new"


def test_records_round_trip_with_their_predictions(tmp_path):
    store = RunStore(tmp_path / "runs")
    record = TrialRecord(key="ab" * 8, trial="t", config={"a": 1}, metrics={"r2": {"log_g": 0.5}})
    preds = {"y_true": np.arange(6.0).reshape(3, 2), "targets": np.array(["log_g", "T_eff"], dtype="S")}
    assert not store.has(record.key)
    store.save(record, preds)
    assert store.has(record.key)
    assert store.load(record.key).metrics == {"r2": {"log_g": 0.5}}
    back = store.predictions(record.key)
    assert np.array_equal(back["y_true"], preds["y_true"]) and list(back["targets"]) == [b"log_g", b"T_eff"]
    assert [p.name for p in store.path(record.key).parent.iterdir()] == [record.key]  # no temp folder left


def test_a_retrained_run_replaces_the_record_the_store_held(small_notebook):
    """`--retrain` retrains, and the report shows the new numbers: the store must hold them too,
    not the record it had for the same key (a cached re-render would bring the old ones back)."""
    import json

    from engine.cli import main
    from engine.run.plan import make_plan

    root, report = small_notebook
    stored = sorted((root / ".research/runs").rglob("record.json"))
    for path in stored:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["metrics"]["r2"]["log_g"] = -9.0
        path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["run", str(report), "--retrain", "--no-commit"]) == 0
    assert all(t.record.metrics["r2"]["log_g"] > -1 for t in make_plan(report).trials)
