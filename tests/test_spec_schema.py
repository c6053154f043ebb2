"""`research spec --schema` documents every model's parameters: `model:` is one branch per
registered model type, each naming every field of that model's config dataclass with its JSON
type and default, so an editor (or a reader) sees what `model: {type: cnn, ...}` may say."""

from __future__ import annotations

import dataclasses
import json

import pytest

from engine import models
from engine.cli import main
from engine.models.configs import CONFIGS, SPEC_NAMES


def _schema(capsys) -> dict:
    assert main(["spec", "--schema"]) == 0
    return json.loads(capsys.readouterr().out)


def _branches(schema: dict) -> dict[str, dict]:
    model = schema["$defs"][schema["properties"]["model"]["$ref"].rsplit("/", 1)[-1]]
    return {b["properties"]["type"].get("const", "plugin"): b for b in model["oneOf"]}


def _config(name: str) -> type:
    return CONFIGS.get(name) or models.resolve(name).Config


def _json(value):
    return json.loads(json.dumps(value))  # a tuple default is a JSON list


def test_every_registered_model_type_lists_every_parameter_with_its_type_and_default(capsys):
    branches = _branches(_schema(capsys))
    assert set(models.names()) <= set(branches) and "plugin" in branches
    for name in models.names():
        branch = branches[name]
        assert branch["additionalProperties"] is False, name  # an unknown parameter is refused, as the model does
        renamed = {field: key for key, field in SPEC_NAMES.get(name, {}).items()}
        for field in dataclasses.fields(_config(name)):
            key = renamed.get(field.name, field.name)
            shown = branch["properties"].get(key)
            assert shown is not None, f"{name}: {key} is not in the schema"
            assert "type" in shown or "anyOf" in shown or "enum" in shown, f"{name}.{key} has no JSON type"
            if field.default is not dataclasses.MISSING:
                assert shown["default"] == _json(field.default), f"{name}.{key}"
            else:
                assert key in branch["required"], f"{name}.{key}"
        assert set(branch["properties"]) == {"type"} | {
            renamed.get(f.name, f.name) for f in dataclasses.fields(_config(name))
        }


def test_the_schema_follows_a_config_when_a_field_is_added(capsys, monkeypatch):
    """Derived, not written out: a field added to a config is in the next schema."""

    @dataclasses.dataclass(frozen=True)
    class Wider(CONFIGS["mlp"]):
        width_multiplier: float = 2.0  # scales every hidden width

    monkeypatch.setitem(CONFIGS, "mlp", Wider)
    shown = _branches(_schema(capsys))["mlp"]["properties"]["width_multiplier"]
    assert shown == {"default": 2.0, "type": "number", "description": "scales every hidden width"}


def test_the_types_are_json_types(capsys):
    branches = _branches(_schema(capsys))
    ridge, cnn, moe = branches["ridge"]["properties"], branches["cnn"]["properties"], branches["moe"]["properties"]
    assert ridge["block_rows"] == {"default": 2048, "type": "integer"} and ridge["standardize"]["type"] == "boolean"
    assert ridge["precision"]["enum"] == ["float64", "float32"]
    assert cnn["channels"]["type"] == "array" and cnn["channels"]["items"] == {"type": "integer"}
    assert {"type": "null"} in moe["gate_patience"]["anyOf"] and moe["gate_patience"]["default"] is None
    assert branches["stored"]["required"] == ["from"]  # `model: {from: trial}` needs no type


def test_real_models_match_one_branch_and_a_misspelled_parameter_none(capsys):
    jsonschema = pytest.importorskip("jsonschema")
    schema = _schema(capsys)
    model = {"$defs": schema["$defs"], **schema["$defs"]["ModelSpec"]}
    for ok in (
        {"type": "ridge", "alpha": 1000.0},
        {"type": "cnn", "channels": [8, 16], "dilation": 1},
        {"type": "lightgbm", "features": "binned:8", "n_estimators": 600},
        {"from": "cand"},
        {"type": "moe", "gate": "mlp_regression", "gate_patience": 20},
        {"type": "mypkg.models:make", "depth": 3},
    ):
        jsonschema.validate(ok, model)
    for bad in ({"type": "ridge", "alpah": 1}, {"type": "vit", "pos": "sine"}, {"type": "mlp", "hidden": "wide"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, model)
