"""`research data synth` and `research data info` through the CLI entry point."""

from engine.cli import main


def test_data_synth_then_info(tmp_path, capsys):
    out = tmp_path / "synth"
    assert main(["data", "synth", "--n", "20", "--out", str(out), "--shards", "2", "--seed", "3"]) == 0
    assert (out / "shard_0" / "dataset.h5").is_file() and (out / "shard_1" / "dataset.h5").is_file()
    assert "shard_{0..1}/dataset.h5" in capsys.readouterr().out
    assert main(["data", "info", str(out / "shard_{0..1}" / "dataset.h5")]) == 0
    text = capsys.readouterr().out
    for word in ("20 spectra", "4096", "flux", "float32", "log_g", "SNR", "q50", "engine.data.synth"):
        assert word in text


def test_data_info_on_a_missing_file_is_exit_2(tmp_path, capsys):
    assert main(["data", "info", str(tmp_path / "nothing_{0..1}.h5")]) == 2
    assert "missing file" in capsys.readouterr().err
