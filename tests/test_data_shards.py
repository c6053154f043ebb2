"""The HDF5 reader: patterns, concatenation, contiguous reads, and every bad input named."""

from pathlib import Path

import h5py
import numpy as np
import pytest

from engine.data.shards import ShardSet, expand, open_shards
from engine.errors import DataError
from engine.spec import DataKeys

P = 16


def write(
    path: Path, n: int, *, start: int = 0, fe_key: str = "Fe_H", flux=None, error=None, wave=None, drop=(), **params
):
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = np.arange(start, start + n)
    with h5py.File(path, "w") as f:
        if "flux" not in drop:
            f["flux"] = flux if flux is not None else (rows[:, None] * 100 + np.arange(P)).astype("f4")
        if "error" not in drop:
            f["error"] = error if error is not None else np.full((n, P), 0.5, "f4")
        if "wave" not in drop:
            f["wave"] = wave if wave is not None else np.linspace(6500, 9500, P)
        columns = {"T_eff": 4000.0 + rows, "log_g": 1.0 + rows / 1000, fe_key: -rows / 1000, "mag": 21.0 + 0 * rows}
        columns.update(params)
        for name, values in columns.items():
            if name not in drop:
                f[name] = np.asarray(values, dtype="f4")
    return path


@pytest.fixture
def shards(tmp_path):
    for k in range(3):
        write(tmp_path / f"train_{k}" / "dataset.h5", 10, start=10 * k)
    return tmp_path


def test_brace_range_glob_and_list_patterns(shards):
    assert [p.parent.name for p in expand("train_{0..2}/dataset.h5", shards)] == ["train_0", "train_1", "train_2"]
    assert [p.parent.name for p in expand("train_*/dataset.h5", shards)] == ["train_0", "train_1", "train_2"]
    assert [p.parent.name for p in expand("train_{2,0}/dataset.h5", shards)] == ["train_0", "train_2"]
    assert len(expand(str(shards / "train_1" / "dataset.h5"))) == 1


def test_numbers_sort_as_numbers_and_zero_padding_is_kept(tmp_path):
    for k in (2, 10, 1):
        write(tmp_path / f"s_{k}.h5", 1)
    assert [p.name for p in expand("s_*.h5", tmp_path)] == ["s_1.h5", "s_2.h5", "s_10.h5"]
    write(tmp_path / "p_00.h5", 1)
    write(tmp_path / "p_01.h5", 1)
    assert [p.name for p in expand("p_{00..01}.h5", tmp_path)] == ["p_00.h5", "p_01.h5"]


def test_shards_concatenate_in_order(shards):
    data = open_shards("train_{0..2}/dataset.h5", base_dir=shards)
    assert (data.n, data.n_pixels) == (30, P)
    flux, error = data.read(np.arange(30))
    assert np.array_equal(flux[:, 0], np.arange(30) * 100)
    assert np.array_equal(data.param("T_eff"), 4000 + np.arange(30))
    assert set(data.columns) >= {"T_eff", "log_g", "Fe_H", "mag", "snr"}


def test_sparse_rows_read_like_fancy_indexing(shards, monkeypatch):
    import engine.data.shards as mod

    monkeypatch.setattr(mod, "PIECE_ROWS", 4)  # force several pieces per span
    data = open_shards("train_*/dataset.h5", base_dir=shards)
    full, _ = data.read(np.arange(30))
    for rows in ([0], [29], [3, 4, 5, 9, 10, 11, 25], list(range(0, 30, 7)), [0, 1, 2, 28, 29]):
        flux, error = data.read(np.array(rows))
        assert np.array_equal(flux, full[rows])
        assert np.array_equal(data.read_flux(np.array(rows)), full[rows])


def test_m_h_and_fe_h_are_one_parameter(tmp_path):
    write(tmp_path / "a.h5", 5, fe_key="M_H")
    data = ShardSet([tmp_path / "a.h5"])
    assert np.allclose(data.param("Fe_H"), -np.arange(5) / 1000)
    assert np.allclose(data.param("M_H"), data.param("Fe_H"))


def test_configured_keys(tmp_path):
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as f:
        f["spec"] = np.ones((4, P), "f4")
        f["sig"] = np.ones((4, P), "f4")
        f["lam"] = np.arange(P, dtype="f8")
        f["params/logg"] = np.arange(4, dtype="f4")
    keys = DataKeys(flux="spec", error="sig", wave="lam", params={"log_g": "params/logg"})
    assert np.array_equal(ShardSet([path], keys).param("log_g"), np.arange(4))


def test_snr_is_computed_when_the_file_has_none(tmp_path):
    write(tmp_path / "a.h5", 4)
    data = ShardSet([tmp_path / "a.h5"])
    flux, error = data.read(np.arange(4))
    assert np.allclose(data.param("snr"), np.median(np.abs(flux) / error, axis=1))


def test_fingerprint_changes_with_the_data(tmp_path):
    path = write(tmp_path / "a.h5", 8)
    before = ShardSet([path]).fingerprint()
    assert ShardSet([path]).fingerprint() == before
    with h5py.File(path, "r+") as f:
        f["flux"][4, 3] = -1.0
    assert ShardSet([path]).fingerprint() != before


# --- bad input: a DataError naming the file and the dataset ---------------------------------------


def message(excinfo) -> str:
    return str(excinfo.value)


def test_missing_file(tmp_path):
    write(tmp_path / "train_0.h5", 2)
    with pytest.raises(DataError) as err:
        expand("train_{0..1}.h5", tmp_path)
    assert "train_1.h5" in message(err) and "missing" in message(err)
    with pytest.raises(DataError, match="no file matches"):
        expand("nothing_*.h5", tmp_path)


def test_not_hdf5(tmp_path):
    (tmp_path / "x.h5").write_text("hello")
    with pytest.raises(DataError, match="x.h5: cannot open as HDF5"):
        ShardSet([tmp_path / "x.h5"])


@pytest.mark.parametrize("key", ["flux", "error", "wave"])
def test_missing_dataset(tmp_path, key):
    path = write(tmp_path / "train_0.h5", 3, drop=(key,))
    with pytest.raises(DataError) as err:
        ShardSet([path])
    assert f"train_0.h5: dataset '{key}': missing" in message(err)


def test_missing_label(tmp_path):
    path = write(tmp_path / "train_0.h5", 3, drop=("log_g",))
    with pytest.raises(DataError) as err:
        ShardSet([path]).param("log_g")
    assert "train_0.h5: dataset 'log_g': missing" in message(err)


def test_flux_must_be_two_dimensional(tmp_path):
    path = write(tmp_path / "train_0.h5", 10, flux=np.ones(10, "f4"), error=np.ones(10, "f4"))
    with pytest.raises(DataError) as err:
        ShardSet([path])
    assert "train_0.h5: dataset 'flux': expected 2-D float array N × pixels, got shape (10,)" in message(err)


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"error": np.ones((3, P + 1), "f4")}, "error"),
        ({"wave": np.arange(P + 2.0)}, "wave"),
        ({"log_g": np.arange(4.0)}, "log_g"),
    ],
)
def test_shape_mismatch(tmp_path, kwargs, key):
    path = write(tmp_path / "train_0.h5", 3, **kwargs)
    with pytest.raises(DataError) as err:
        ShardSet([path])
    assert f"train_0.h5: dataset '{key}': expected" in message(err)


def test_wave_grids_must_agree_between_shards(tmp_path):
    a = write(tmp_path / "a.h5", 2)
    b = write(tmp_path / "b.h5", 2, wave=np.linspace(6000, 9000, P))
    with pytest.raises(DataError, match="b.h5: dataset 'wave': wavelength grid differs"):
        ShardSet([a, b])


@pytest.mark.parametrize("key, bad", [("flux", np.nan), ("flux", np.inf), ("error", -np.inf)])
def test_non_finite_spectra_are_caught_as_read(tmp_path, key, bad):
    values = np.ones((6, P), "f4")
    values[4, 7] = bad
    path = write(tmp_path / "train_0.h5", 6, **{key: values})
    data = ShardSet([path])
    data.read(np.arange(4))  # rows before the bad one are fine
    with pytest.raises(DataError) as err:
        data.read(np.arange(6))
    assert f"train_0.h5: dataset '{key}': row 4 has a {bad}" in message(err)
    with pytest.raises(DataError, match="row 4"):
        data.read(np.array([0, 4]))  # through the sparse path too


def test_non_finite_label(tmp_path):
    values = np.arange(5.0)
    values[3] = np.nan
    path = write(tmp_path / "train_0.h5", 5, T_eff=values)
    with pytest.raises(DataError) as err:
        ShardSet([path]).param("T_eff")
    assert "train_0.h5: dataset 'T_eff': row 3 is nan" in message(err)


def test_empty_file(tmp_path):
    path = write(tmp_path / "train_0.h5", 0, flux=np.ones((0, P), "f4"), error=np.ones((0, P), "f4"))
    with pytest.raises(DataError, match="no spectra"):
        ShardSet([path])
