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


def test_train_has_one_config_class_from_the_spec_to_the_model():
    """The spec validates `train:` with the models' own TrainConfig and hands that object on:
    a key, default or bound is written once, and a checkpoint keeps what the spec said."""
    from engine.models.base import TrainConfig
    from engine.spec import Spec, TrialConfig

    assert Spec.model_fields["train"].annotation is TrainConfig
    assert TrialConfig.model_fields["train"].annotation is TrainConfig
    trial = TrialConfig.model_validate({"model": {"type": "ridge"}, "train": {"seed": 3, "loss_weights": {"log_g": 2}}})
    model = models.build({"type": "ridge"}, trial.train, ["log_g"])
    assert model.train is trial.train


def test_a_python_train_mapping_is_checked_by_the_same_class():
    with pytest.raises(SpecError) as bad:
        models.build({"type": "ridge"}, {"epochs": 0}, ["log_g"])
    assert bad.value.key == "train.epochs"
    with pytest.raises(SpecError) as typo:
        models.build({"type": "ridge"}, {"lrr": 0.1}, ["log_g"])
    assert typo.value.key == "train.lrr" and "lr" in str(typo.value.hint)
    with pytest.raises(SpecError) as weighting:
        models.build({"type": "ridge"}, {"loss_weights": "equall"}, ["log_g"])
    assert weighting.value.key == "train.loss_weights" and "equal" in str(weighting.value.hint)


def test_a_validated_model_config_is_the_object_the_model_gets():
    config = models.validate({"type": "ridge", "alphas": [1, 10]})
    model = models.build({"type": "ridge", "alphas": [1, 10]}, None, ["log_g"], config=config)
    assert model.config is config
    with pytest.raises(TypeError):
        models.build({"type": "mlp"}, None, ["log_g"], config=config)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"channels": [4], "kernel": 7, "dilation": 1, "stride": 1}, 7),
        ({"channels": [4, 4], "kernel": 7, "dilation": [1, 2], "stride": 1}, 19),
        ({"channels": [4, 4, 4], "kernel": 7, "dilation": 2, "stride": 2}, 85),
    ],
)
def test_a_cnn_reports_the_receptive_field_its_convolutions_have(params, expected):
    """The number a rule reads (`info.receptive_field`) is the span of input pixels one output
    position of the last convolution depends on, measured through torch's gradient."""
    torch = pytest.importorskip("torch")
    from engine.models.cnn import CNN

    config = models.validate({"type": "cnn", **params})
    assert config.receptive_field == expected
    net = CNN(config, 512).eval()
    x = torch.randn(1, 512, requires_grad=True)
    out = net.convs(x.unsqueeze(1))
    out[0, :, out.shape[-1] // 2].sum().backward()
    touched = torch.nonzero(x.grad[0]).flatten()
    assert int(touched.max() - touched.min()) + 1 == expected
