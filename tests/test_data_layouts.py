"""The reader reads other tools' layouts to the same arrays: groups, compound datasets, pandas
`fixed` and `table` frames (written here with h5py in pandas' structure, so pandas is not needed),
renamed keys, per-file keys; what it cannot read it says, with the file's contents and keys."""

import hashlib
import pickle
from pathlib import Path

import h5py
import numpy as np
import pytest

from engine.cli import main
from engine.data.info import describe
from engine.data.shards import ShardSet, expand, open_shards
from engine.errors import DataError
from engine.spec import DataKeys

N, P = 40, 16
ROWS = np.arange(N)
FLUX = (ROWS[:, None] * 100 + np.arange(P)).astype("f4")
ERROR = (0.5 + ROWS[:, None] / 100 + 0 * np.arange(P)).astype("f4")
WAVE = np.linspace(6500, 9500, P)
LABELS = {
    "T_eff": 4000.0 + 10 * ROWS,
    "log_g": 1.0 + ROWS / 10,
    "Fe_H": -ROWS / 100,
    "mag": 20.0 + ROWS / 8,  # exact in float32, as pandas' float32 block keeps it
    "snr": 10.0 + ROWS,
}


def arrays(f, rows=slice(None), **names):
    f[names.get("flux", "flux")] = FLUX[rows]
    f[names.get("error", "error")] = ERROR[rows]
    f[names.get("wave", "wave")] = WAVE


def pickled(values) -> np.bytes_:
    """What pandas (PyTables) stores in a list-valued attribute: a protocol-0 pickle."""
    return np.bytes_(pickle.dumps(list(values), protocol=0))


def compound(columns: dict, rows=slice(None)) -> np.ndarray:
    table = np.zeros(len(ROWS[rows]), dtype=[(name, "f8") for name in columns])
    for name, values in columns.items():
        table[name] = values[rows]
    return table


# --- writers: one per layout, the same numbers in each -------------------------------------------


def write_flat(path: Path, rows=slice(None)) -> Path:
    with h5py.File(path, "w") as f:
        arrays(f, rows)
        for name, values in LABELS.items():
            f["M_H" if name == "Fe_H" else name] = values[rows].astype("f8")
    return path


def write_group(path: Path, rows=slice(None)) -> Path:
    with h5py.File(path, "w") as f:
        arrays(f, rows)
        for name, values in zip(("teff", "logg", "feh", "magnitude", "SNR"), LABELS.values()):
            f[f"params/{name}"] = values[rows]
    return path


def write_compound(path: Path, rows=slice(None), names=("teff", "logg", "mh", "mag", "snr")) -> Path:
    with h5py.File(path, "w") as f:
        arrays(f, rows)
        f["params"] = compound(dict(zip(names, LABELS.values())), rows)
    return path


def write_pandas_fixed(path: Path, rows=slice(None), n_rows: int | None = None) -> Path:
    """`DataFrame.to_hdf(format="fixed")`: blocks of one dtype each, stored transposed (rows × items)."""
    index = ROWS[rows]
    with h5py.File(path, "w") as f:
        arrays(f, rows)
        g = f.create_group("labels")
        g.attrs.update(
            {
                "pandas_type": np.bytes_(b"frame"),
                "pandas_version": np.bytes_(b"0.15.2"),
                "ndim": np.int64(2),
                "nblocks": np.int64(3),
                "encoding": np.bytes_(b"UTF-8"),
            }
        )
        blocks = [
            (
                ["Teff", "LOGG", "[Fe/H]", "snr"],
                np.stack([LABELS[k][rows] for k in ("T_eff", "log_g", "Fe_H", "snr")], 1),
            ),
            (["mag"], LABELS["mag"][rows, None].astype("f4")),
            (["id"], index[:, None].astype("i8")),
        ]
        g["axis0"] = np.array([n.encode() for items, _ in blocks for n in items])
        g["axis1"] = index.astype("i8")
        for i, (items, values) in enumerate(blocks):
            g[f"block{i}_items"] = np.array([n.encode() for n in items])
            g[f"block{i}_values"] = values
            g[f"block{i}_values"].attrs["transposed"] = np.uint8(1)
    return path


def write_pandas_table(path: Path, rows=slice(None)) -> Path:
    """`DataFrame.to_hdf(format="table", data_columns=["SNR"])`: one compound dataset `table`
    whose `values_block_K` fields hold several columns, named in pickled `_kind` attributes."""
    index = ROWS[rows]
    blocks = {"values_block_0": ["Teff", "LOGG", "[M/H]"], "values_block_1": ["mag"]}
    dtype = [
        ("index", "i8"),
        ("values_block_0", "f8", (3,)),
        ("values_block_1", "f4", (1,)),
        ("values_block_2", "S4", (1,)),
        ("SNR", "f8"),
    ]
    table = np.zeros(len(index), dtype=dtype)
    table["index"] = index
    table["values_block_0"] = np.stack([LABELS[k][rows] for k in ("T_eff", "log_g", "Fe_H")], 1)
    table["values_block_1"] = LABELS["mag"][rows, None]
    table["values_block_2"] = np.array([[f"s{i}".encode()] for i in index])
    table["SNR"] = LABELS["snr"][rows]
    with h5py.File(path, "w") as f:
        arrays(f, rows)
        g = f.create_group("labels")
        g.attrs.update(
            {
                "pandas_type": np.bytes_(b"frame_table"),
                "table_type": np.bytes_(b"appendable_frame"),
                "non_index_axes": pickled([(1, ["Teff", "LOGG", "[M/H]", "mag", "name", "SNR"])]),
            }
        )
        g["table"] = table
        for field, names in {**blocks, "values_block_2": ["name"], "SNR": ["SNR"]}.items():
            g["table"].attrs[f"{field}_kind"] = pickled(names)
    return path


def write_renamed(path: Path, rows=slice(None)) -> Path:
    """Names no search would guess: readable only with data.keys."""
    with h5py.File(path, "w") as f:
        arrays(f, rows, flux="spec/F", error="spec/S", wave="grid")
        f["cat"] = compound(dict(zip(("TEMP", "GRAVITY", "METAL", "G", "S2N"), LABELS.values())), rows)
    return path


RENAMED = DataKeys(
    flux="spec/F",
    error="spec/S",
    wave="grid",
    params={"T_eff": "cat/TEMP", "log_g": "cat.GRAVITY", "M_H": "cat/METAL", "mag": "cat/G", "snr": "S2N"},
)


def assert_reads_the_same(data: ShardSet, rows=ROWS) -> None:
    flux, error = data.read(np.arange(data.n))
    assert np.array_equal(flux, FLUX[rows]) and np.array_equal(error, ERROR[rows])
    assert np.array_equal(data.wave, WAVE)
    for name, values in LABELS.items():
        assert np.allclose(data.param(name), values[rows], rtol=1e-12, atol=0), name
    assert np.array_equal(data.param("M_H"), data.param("Fe_H"))
    sparse = np.array([1, 2, 7, 30])
    assert np.array_equal(data.read_flux(sparse), FLUX[rows][sparse])


# --- every layout reads to the same arrays --------------------------------------------------------


@pytest.mark.parametrize(
    "writer, where",
    [
        (write_flat, {"T_eff": "T_eff (dataset)", "Fe_H": "M_H (dataset)"}),
        (
            write_group,
            {"T_eff": "params/teff (dataset)", "mag": "params/magnitude (dataset)", "snr": "params/SNR (dataset)"},
        ),
        (write_compound, {"log_g": "params/logg (compound field)", "Fe_H": "params/mh (compound field)"}),
        (
            write_pandas_fixed,
            {
                "T_eff": "labels/Teff (pandas column)",
                "Fe_H": "labels/[Fe/H] (pandas column)",
                "mag": "labels/mag (pandas column)",
            },
        ),
        (
            write_pandas_table,
            {
                "log_g": "labels/LOGG (pandas column)",
                "Fe_H": "labels/[M/H] (pandas column)",
                "snr": "labels/SNR (pandas column)",
            },
        ),
    ],
)
def test_each_layout_reads_to_the_same_arrays_without_keys(tmp_path, writer, where):
    data = ShardSet([writer(tmp_path / "a.h5")])
    assert_reads_the_same(data)
    assert set(data.columns) == set(LABELS)
    for role, text in {"flux": "flux (dataset)", **where}.items():
        assert data.mapping[role] == text


def test_renamed_keys_read_through_data_keys(tmp_path):
    path = write_renamed(tmp_path / "a.h5")
    data = ShardSet([path], RENAMED)
    assert_reads_the_same(data)
    assert data.mapping["flux"] == "spec/F (dataset)"
    assert data.mapping["log_g"] == "cat/GRAVITY (compound field)"  # 'cat.GRAVITY' is the same field
    assert data.mapping["snr"] == "cat/S2N (compound field)"  # a bare name: the one member so named


def test_keys_address_compound_fields_and_pandas_columns_with_either_separator(tmp_path):
    compound_file = write_compound(tmp_path / "c.h5")
    table_file = write_pandas_table(tmp_path / "t.h5")
    for key in ("params/logg", "params.logg"):
        assert np.allclose(ShardSet([compound_file], DataKeys(params={"log_g": key})).param("log_g"), LABELS["log_g"])
    keys = DataKeys(params={"Fe_H": "labels/[M/H]", "T_eff": "labels.Teff"})
    data = ShardSet([table_file], keys)
    assert np.allclose(data.param("Fe_H"), LABELS["Fe_H"]) and np.allclose(data.param("T_eff"), LABELS["T_eff"])


def test_labels_may_sit_in_another_group_than_the_spectra(tmp_path):
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as f:
        arrays(f, flux="spectra/flux", error="spectra/sigma", wave="spectra/wavelength")
        f["meta/labels"] = compound(
            {
                "teff": LABELS["T_eff"],
                "logg": LABELS["log_g"],
                "feh": LABELS["Fe_H"],
                "mag": LABELS["mag"],
                "snr": LABELS["snr"],
            }
        )
    data = ShardSet([path])
    assert_reads_the_same(data)
    assert data.mapping["error"] == "spectra/sigma (dataset)"
    assert data.mapping["T_eff"] == "meta/labels/teff (compound field)"


def test_a_brace_pattern_and_a_test_file_with_keys_of_its_own(tmp_path):
    for k in range(2):
        write_compound(tmp_path / f"train_{k}.h5", slice(20 * k, 20 * k + 10))
    write_renamed(tmp_path / "test_10k.h5", slice(10, 20))  # another tool: other names
    write_renamed(tmp_path / "test_10k_b.h5", slice(30, 40))
    files = {
        "test_10k*": {
            "flux": "spec/F",
            "error": "spec/S",
            "wave": "grid",
            "params": {
                "T_eff": "cat/TEMP",
                "log_g": "cat/GRAVITY",
                "Fe_H": "cat/METAL",
                "mag": "cat/G",
                "snr": "cat/S2N",
            },
        }
    }
    keys = DataKeys.model_validate({"files": files})
    data = open_shards("{train_{0..1},test_10k,test_10k_b}.h5", base_dir=tmp_path, keys=keys)
    assert [p.name for p in data.paths] == ["test_10k.h5", "test_10k_b.h5", "train_0.h5", "train_1.h5"]
    order = np.concatenate([np.arange(10, 20), np.arange(30, 40), np.arange(0, 10), np.arange(20, 30)])
    assert_reads_the_same(data, order)
    assert (
        data.mapping["log_g"] == "cat/GRAVITY (compound field) in 2 files (test_10k.h5, test_10k_b.h5); "
        "params/logg (compound field) in 2 files (train_0.h5, train_1.h5)"
    )
    assert [lay.globs for lay in data.layouts] == [("test_10k*",), ("test_10k*",), (), ()]


def test_files_globs_match_the_path_relative_to_the_report_folder(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    write_flat(tmp_path / "train" / "a.h5")
    write_renamed(tmp_path / "test" / "a.h5")
    keys = DataKeys.model_validate({"files": {"test/*.h5": RENAMED.model_dump()}})
    data = open_shards("*/a.h5", base_dir=tmp_path, keys=keys)
    assert [lay.globs for lay in data.layouts] == [("test/*.h5",), ()]
    assert_reads_the_same(data, np.concatenate([ROWS, ROWS]))


# --- what it cannot read, it says -----------------------------------------------------------------


def test_a_field_that_is_not_there_lists_the_fields_and_proposes_keys(tmp_path):
    path = write_compound(tmp_path / "a.h5", names=("TEMP", "GRAVITY", "METAL", "MAG", "S2N"))
    data = ShardSet([path], DataKeys(params={"log_g": "params/logg"}))
    with pytest.raises(DataError) as err:
        data.param("log_g")
    text = str(err.value)
    assert "data.keys.params.log_g: 'params' is a compound dataset without a field 'logg'" in text
    assert "its fields are TEMP, GRAVITY, METAL, MAG, S2N" in text
    assert "flux (40 × 16 float32)" in text and "params (compound dataset, 40 rows" in text
    assert "data.keys: {params: {log_g: params/GRAVITY}}" in text
    assert err.value.path == str(path)


def test_a_label_no_search_finds_is_missing_with_the_file_listed(tmp_path):
    path = write_compound(tmp_path / "a.h5", names=("TEMP", "GRAVITY", "METAL", "G", "S2N"))
    data = ShardSet([path])
    assert data.columns == ("snr",)  # nothing found but the snr it computes
    with pytest.raises(DataError) as err:
        data.param("T_eff")
    text = str(err.value)
    assert "dataset 'T_eff': missing" in text and "fields TEMP, GRAVITY, METAL, G, S2N" in text
    assert "data.keys: {params: {T_eff: params/TEMP}}" in text


def test_naming_a_compound_dataset_asks_for_one_of_its_fields(tmp_path):
    path = write_compound(tmp_path / "a.h5")
    with pytest.raises(
        DataError, match=r"'params' is a compound dataset \(40 rows\); name one of its fields: params/teff, params/logg"
    ):
        ShardSet([path], DataKeys(params={"log_g": "params"})).param("log_g")


def test_missing_arrays_propose_the_keys_for_all_of_them(tmp_path):
    path = write_renamed(tmp_path / "a.h5")
    with pytest.raises(DataError) as err:
        ShardSet([path])
    text = str(err.value)
    assert "dataset 'flux': missing; the file holds" in text
    assert "spec/F (40 × 16 float32)" in text and "cat (compound dataset, 40 rows; fields TEMP, GRAVITY" in text
    assert "data.keys: {flux: spec/F, error: spec/S, wave: grid}" in text
    assert_reads_the_same(ShardSet([path], DataKeys(flux="spec/F", error="spec/S", wave="grid", params=RENAMED.params)))


def test_a_test_file_missing_a_label_gets_a_files_entry_proposed(tmp_path):
    write_compound(tmp_path / "train.h5")
    write_compound(tmp_path / "test_10k.h5", names=("teff", "GRAVITY", "mh", "mag", "snr"))
    data = open_shards("{train,test_10k}.h5", base_dir=tmp_path)
    with pytest.raises(DataError) as err:
        data.param("log_g")
    assert "test_10k.h5" in err.value.path
    assert "data.keys: {files: {test_10k.h5: {params: {log_g: params/GRAVITY}}}}" in str(err.value)


def test_two_candidates_are_an_error_naming_both(tmp_path):
    path = write_flat(tmp_path / "a.h5")
    with h5py.File(path, "a") as f:
        f["teff"] = LABELS["T_eff"]
        del f["T_eff"]
        f["params"] = compound({"Teff": LABELS["T_eff"] + 1})
    data = ShardSet([path])  # flux and the other labels are fine: only T_eff is in doubt
    assert np.allclose(data.param("log_g"), LABELS["log_g"])
    with pytest.raises(DataError) as err:
        data.param("T_eff")
    text = str(err.value)
    assert "parameter 'T_eff': 2 candidates: teff (dataset) and params/Teff (compound field)" in text
    assert "data.keys: {params: {T_eff: teff}}" in text
    chosen = ShardSet([path], DataKeys(params={"T_eff": "params/Teff"}))
    assert np.allclose(chosen.param("T_eff"), LABELS["T_eff"] + 1)


def test_two_fluxes_are_an_error_when_the_set_opens(tmp_path):
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as f:
        arrays(f, flux="a/spectra")
        f["b/spectrum"] = FLUX
    with pytest.raises(
        DataError, match=r"dataset 'flux': 2 candidates: a/spectra \(dataset\) and b/spectrum \(dataset\)"
    ):
        ShardSet([path])


def test_ivar_is_never_taken_for_the_error(tmp_path):
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as f:
        arrays(f, error="ivar")
    with pytest.raises(DataError, match="dataset 'error': missing"):
        ShardSet([path])


def test_an_empty_parameter_table_is_a_warning_until_a_label_is_needed(tmp_path):
    path = write_pandas_fixed(tmp_path / "a.h5")
    with h5py.File(path, "a") as f:  # what pandas writes for an empty frame: a placeholder, its true shape pickled
        del f["labels"]
        g = f.create_group("labels")
        g.attrs.update({"pandas_type": np.bytes_(b"frame"), "nblocks": np.int64(1)})
        g["axis0"] = np.array([b"teff"])
        g["axis1"] = np.zeros(1)
        g["axis1"].attrs.update({"value_type": np.bytes_(b"int64"), "shape": np.bytes_(pickle.dumps((0,), protocol=0))})
        g["block0_items"] = np.array([b"teff"])
        g["block0_values"] = np.zeros((1, 1))
        g["block0_values"].attrs.update(
            {"value_type": np.bytes_(b"float64"), "shape": np.bytes_(pickle.dumps((1, 0), protocol=0))}
        )
    data = ShardSet([path])
    assert data.n == N and "T_eff" not in data.columns
    assert len(data.warnings) == 1 and "the parameter table 'labels' is empty (0 rows)" in data.warnings[0]
    with pytest.raises(DataError, match="empty"):
        data.param("T_eff")


# --- identity and performance-relevant invariants -------------------------------------------------


def old_fingerprint(paths, param_keys) -> str:
    """The fingerprint as the reader computed it before layouts (flux/error/wave keys the defaults)."""
    digest = hashlib.sha256()
    digest.update(repr(("flux", "error", "wave", [])).encode())
    for path in paths:
        with h5py.File(path, "r") as f:
            n, pixels = f["flux"].shape
            stat = path.stat()
            digest.update(
                repr((n, pixels, str((f["flux"].dtype, f["error"].dtype)), stat.st_size, stat.st_mtime_ns)).encode()
            )
            sample = sorted(
                {*range(min(4, n)), *range(max(0, n // 2 - 2), min(n, n // 2 + 2)), *range(max(0, n - 4), n)}
            )
            for start, stop in ((0, 4), (n // 2 - 2, n // 2 + 2), (n - 4, n)):
                assert set(range(start, stop)) <= set(sample)
                for key in ("flux", "error"):
                    digest.update(np.ascontiguousarray(f[key][start:stop]).tobytes())
                for _name, key in sorted(param_keys.items()):
                    digest.update(np.ascontiguousarray(f[key][start:stop]).tobytes())
    return digest.hexdigest()[:16]


def test_the_flat_layout_keeps_its_fingerprint(tmp_path):
    paths = [write_flat(tmp_path / f"s{k}.h5", slice(20 * k, 20 * k + 20)) for k in range(2)]
    found = {"T_eff": "T_eff", "log_g": "log_g", "Fe_H": "M_H", "mag": "mag", "snr": "snr"}
    assert ShardSet(paths).fingerprint() == old_fingerprint(paths, found)


def test_the_mapping_enters_the_fingerprint_of_other_layouts(tmp_path):
    path = write_compound(tmp_path / "a.h5")
    with h5py.File(path, "a") as f:
        f["alt"] = compound({"logg": LABELS["log_g"]})
    plain = ShardSet([path], DataKeys(params={"log_g": "params/logg"})).fingerprint()
    assert ShardSet([path], DataKeys(params={"log_g": "params/logg"})).fingerprint() == plain
    assert ShardSet([path], DataKeys(params={"log_g": "alt/logg"})).fingerprint() != plain  # same numbers, other place


def test_a_pickled_set_reopens_its_files(tmp_path):
    data = ShardSet([write_pandas_table(tmp_path / "a.h5")])
    data.read(np.arange(3))
    again = pickle.loads(pickle.dumps(data))
    assert_reads_the_same(again)


def test_a_folder_is_every_hdf5_file_under_it(tmp_path):
    for name in ("shard_1/dataset.h5", "shard_0/dataset.hdf5", "notes/readme.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        if name.endswith("txt"):
            (tmp_path / name).write_text("x")
        else:
            write_flat(tmp_path / name)
    assert [p.relative_to(tmp_path).as_posix() for p in expand(".", tmp_path)] == [
        "shard_0/dataset.hdf5",
        "shard_1/dataset.h5",
    ]
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no \\*.h5 or \\*.hdf5 file under the folder empty"):
        expand("empty", tmp_path)


def test_describe_reports_the_mapping_and_the_sources_of_labels(tmp_path):
    info = describe(write_pandas_table(tmp_path / "a.h5"))
    assert info.mapping["T_eff"] == "labels/Teff (pandas column)"
    assert info.datasets["labels/Teff"] == ((N,), "float64")
    assert info.params["log_g"] == (LABELS["log_g"].min(), pytest.approx(LABELS["log_g"].mean()), LABELS["log_g"].max())
    assert info.snr_from == "column" and info.warnings == []


# --- research data info ---------------------------------------------------------------------------


def test_data_info_on_the_folder_data_synth_wrote(tmp_path, capsys):
    out = tmp_path / "synth"
    assert main(["data", "synth", "--n", "12", "--out", str(out), "--shards", "2"]) == 0
    capsys.readouterr()
    assert main(["data", "info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 files, 12 spectra × 4096 pixels" in text
    assert "log_g ← log_g (dataset)" in text and "flux  ← flux (dataset)" in text


def test_data_info_with_keys(tmp_path, capsys):
    path = write_renamed(tmp_path / "a.h5")
    assert main(["data", "info", str(path)]) == 2
    assert "dataset 'flux': missing" in capsys.readouterr().err
    keys = "{flux: spec/F, error: spec/S, wave: grid, params: {log_g: cat/GRAVITY, M_H: cat.METAL}}"
    assert main(["data", "info", str(path), "--keys", keys]) == 0
    text = capsys.readouterr().out
    assert "log_g ← cat/GRAVITY (compound field)" in text and "Fe_H  ← cat/METAL (compound field)" in text
    assert f"{LABELS['log_g'].max():.4g}" in text  # the label's range is shown: it was read


@pytest.mark.parametrize(
    "keys, said",
    [
        ("{params: {log_g: [a, b]}}", "--keys params.log_g: expected a string"),
        ("{parms: {log_g: logg}}", "--keys parms: unknown key. did you mean 'params'?"),
        ("[1, 2]", "--keys: expected a mapping"),
        ("{params: {", "--keys: not YAML or JSON"),
    ],
)
def test_data_info_with_bad_keys_is_a_clean_exit_2(tmp_path, capsys, keys, said):
    path = write_flat(tmp_path / "a.h5")
    assert main(["data", "info", str(path), "--keys", keys]) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err


def test_data_info_warns_of_an_ambiguous_label_and_still_describes(tmp_path, capsys):
    path = write_group(tmp_path / "a.h5")
    with h5py.File(path, "a") as f:
        f["logg"] = LABELS["log_g"]
    assert main(["data", "info", str(path)]) == 0
    text = capsys.readouterr().out
    assert "warning:" in text and "parameter 'log_g': 2 candidates: logg (dataset) and params/logg (dataset)" in text
    assert "T_eff ← params/teff (dataset)" in text


def test_data_info_reads_a_report_as_a_run_would(tmp_path, capsys):
    folder = tmp_path / "research" / "t" / "exp"
    folder.mkdir(parents=True)
    for k in range(2):
        write_compound(folder / f"train_{k}.h5", slice(20 * k, 20 * k + 20))
    write_compound(folder / "test_10k.h5", names=("teff", "GRAVITY", "mh", "mag", "snr"))
    report = folder / "exp_x.md"
    report.write_text(
        "---\nid: T-1\ntitle: t\nmodel: {type: ridge}\n"
        "data:\n  source: 'train_{0..1}.h5'\n  test_source: test_10k.h5\n"
        "  keys: {files: {'test_10k*': {params: {log_g: params/GRAVITY}}}}\n---\n\n# t\n",
        encoding="utf-8",
    )
    assert main(["data", "info", "--spec", str(report)]) == 0
    text = capsys.readouterr().out
    assert "data.source: train_{0..1}.h5" in text and "2 files, 40 spectra" in text
    assert "data.test_source: test_10k.h5" in text and "log_g ← params/GRAVITY (compound field)" in text
    assert main(["data", "info", "--spec", str(report), "--keys", "{}"]) == 0  # --keys replaces the report's
    text = capsys.readouterr().out  # test_10k's log_g is not found without them, and log_g is the target
    assert "warning: data.targets has log_g, which a run cannot read" in text and "log_g: params/GRAVITY" in text


def test_data_info_without_a_pattern_or_a_report_is_exit_2(capsys):
    assert main(["data", "info"]) == 2
    assert "give an HDF5 file, folder or pattern, or --spec REPORT" in capsys.readouterr().err


# --- pandas itself, when it is installed -----------------------------------------------------------


@pytest.mark.parametrize("fmt", ["fixed", "table"])
def test_files_pandas_wrote(tmp_path, fmt):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("tables")
    frame = pd.DataFrame(
        {
            "Teff": LABELS["T_eff"],
            "logg": LABELS["log_g"],
            "[Fe/H]": LABELS["Fe_H"],
            "mag": LABELS["mag"].astype("f4"),
            "SNR": LABELS["snr"],
            "name": [f"s{i}" for i in ROWS],
        }
    )
    path = tmp_path / "a.h5"
    frame.to_hdf(path, key="labels", format=fmt)
    with h5py.File(path, "a") as f:
        arrays(f)
    assert_reads_the_same(ShardSet([path]))


def test_a_look_alike_of_the_wrong_shape_is_not_read(tmp_path):
    path = write_flat(tmp_path / "a.h5")
    with h5py.File(path, "a") as f:
        del f["snr"]
        f["bands/SNR"] = np.ones((N, 3))  # per band: not the one number per spectrum snr is
    data = ShardSet([path])
    assert data.mapping["snr"] == "computed: median |flux| / error"
    flux, error = data.read(np.arange(N))
    assert np.allclose(data.param("snr"), np.median(np.abs(flux) / error, axis=1))


def test_problems_survive_pickling(tmp_path):
    path = write_group(tmp_path / "a.h5")
    with h5py.File(path, "a") as f:
        f["logg"] = LABELS["log_g"]
    again = pickle.loads(pickle.dumps(ShardSet([path])))
    with pytest.raises(DataError) as err:
        again.param("log_g")
    assert err.value.path == str(path) and "2 candidates" in str(err.value)
