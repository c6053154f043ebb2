"""The model registry: names, plugins, parameter checking, checkpoints, and a light import."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import engine.models as models
from engine.errors import SpecError
from engine.models.toy import toy_splits


def test_importing_the_registry_loads_no_ml_library():
    code = "import sys, engine.models, engine.metrics, engine.progress; print(' '.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    )
    assert not {"torch", "lightgbm", "sklearn", "scipy", "rich"} & loaded


def test_unknown_type_suggests_the_closest_name():
    with pytest.raises(SpecError) as err:
        models.build({"type": "ridgee"}, {}, ["log_g"])
    assert err.value.key == "model.type"
    assert "did you mean 'ridge'?" in str(err.value)
    assert "lightgbm" in str(err.value)  # the registered names are listed


def test_unknown_parameter_names_it_and_the_valid_ones():
    with pytest.raises(SpecError) as err:
        models.build({"type": "mlp", "hiden": [64]}, {}, ["log_g"])
    text = str(err.value)
    assert err.value.key == "model.hiden"
    assert "did you mean 'hidden'?" in text and "dropout" in text


@pytest.mark.parametrize(
    ("model", "key", "words"),
    [
        ({"type": "mlp", "hidden": "big"}, "model.hidden", "expected a list of integers"),
        ({"type": "ridge", "alpha": "1"}, "model.alpha", "expected a number"),
        ({"type": "vit", "pos": "wav"}, "model.pos", "did you mean 'wave'?"),
        ({"type": "ridge", "alpha": 1.0, "alphas": [1, 2]}, "model.alpha", "either alpha or alphas"),
        ({"type": "lightgbm", "features": "binned:0"}, "model.features", "binned:<k>"),
        ({"type": "vit", "dim": 30, "heads": 4}, "model.dim", "multiple of heads"),  # the first it names
    ],
)
def test_bad_parameter_values(model, key, words):
    with pytest.raises(SpecError) as err:
        models.build(model, {}, ["log_g"])
    assert err.value.key == key
    assert words in str(err.value)


def test_unknown_train_key():
    with pytest.raises(SpecError) as err:
        models.build({"type": "ridge"}, {"epochz": 3}, ["log_g"])
    assert err.value.key == "train.epochz" and "did you mean 'epochs'?" in str(err.value)


def test_validate_returns_the_config():
    config = models.validate({"type": "cnn", "channels": [8, 16], "dilation": [1, 2]})
    assert config.channels == (8, 16) and config.dilations == (1, 2)
    assert models.validate({"type": "ridge", "alphas": [1, 10]}).path == (1.0, 10.0)


PLUGIN = textwrap.dedent(
    """
    import numpy as np

    class MeanModel:
        def __init__(self, params, train, targets):
            self.params, self.train, self.targets = params, train, targets

        def fit(self, train, val=None, *, log=print, progress=None):
            self.mean = train.labels().mean(axis=0)

        def predict(self, split):
            return np.tile(self.mean, (len(split), 1)).astype(np.float64)

    def make(params, train, targets):
        return MeanModel(params, train, targets)

    not_a_model = 3
    """
)


def test_plugin_loads_by_module_and_factory(tmp_path, monkeypatch):
    (tmp_path / "my_plugins").mkdir()
    (tmp_path / "my_plugins" / "__init__.py").write_text("")
    (tmp_path / "my_plugins" / "means.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    model = models.build({"type": "my_plugins.means:make", "shrink": 0.5}, {"seed": 7}, ["log_g", "Fe_H"])
    assert model.params == {"shrink": 0.5} and model.train["seed"] == 7 and model.targets == ("log_g", "Fe_H")
    train, _, test = toy_splits(50, 10, 20, 16, targets=["log_g", "Fe_H"])
    model.fit(train)
    assert model.predict(test).shape == (20, 2)


def test_plugin_is_found_from_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "cwd_plugin.py").write_text(PLUGIN)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    assert models.build({"type": "cwd_plugin:make"}, {}, ["log_g"]).targets == ("log_g",)


def test_plugin_errors(tmp_path, monkeypatch):
    (tmp_path / "plug.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(SpecError, match="did you mean 'make'"):
        models.build({"type": "plug:mak"}, {}, ["log_g"])
    with pytest.raises(SpecError, match="cannot import the plugin module 'nowhere_module'"):
        models.build({"type": "nowhere_module:make"}, {}, ["log_g"])
    with pytest.raises(SpecError, match="no callable 'not_a_model'"):
        models.build({"type": "plug:not_a_model"}, {}, ["log_g"])


def test_register_a_new_type():
    from engine.models.ridge import Ridge

    class Shrunk(Ridge):
        type = "shrunk_ridge_test"

    models.register("shrunk_ridge_test", Shrunk)
    try:
        with pytest.raises(ValueError, match="already registered"):
            models.register("shrunk_ridge_test", Shrunk)
        assert isinstance(models.build({"type": "shrunk_ridge_test", "alpha": 1.0}, {}, ["log_g"]), Shrunk)
        assert "shrunk_ridge_test" in models.names()
    finally:
        models._REGISTRY.pop("shrunk_ridge_test")


def test_checkpoint_is_plain_npz_with_its_config(tmp_path):
    train, val, test = toy_splits(200, 50, 50, 32, targets=["T_eff"])
    model = models.build({"type": "ridge", "alphas": [0.1, 1.0]}, {"seed": 3}, ["T_eff"])
    model.fit(train, val)
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        assert {"__meta__", "coef", "intercept"} <= set(archive.files)
    loaded = models.load(tmp_path / "m.npz")
    assert loaded.config == model.config and loaded.train.seed == 3 and loaded.targets == ("T_eff",)
    np.testing.assert_array_equal(loaded.predict(test), model.predict(test))


def test_train_config_mirrors_the_spec():
    """Every `train:` key of the spec reaches the models (plus `redraw`, from `noise.redraw`)."""
    from dataclasses import fields

    from engine.models.base import TrainConfig
    from engine.spec import TrainSpec

    assert {f.name for f in fields(TrainConfig)} == set(TrainSpec.model_fields) | {"redraw"}
    defaults = TrainSpec().model_dump()
    assert {k: v for k, v in vars(TrainConfig()).items() if k != "redraw"} == defaults
