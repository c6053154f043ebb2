"""The spec: an experiment report's YAML front matter, as typed, frozen objects.

    from engine.spec import load_spec
    spec = load_spec(front_matter_text, path="exp.md", first_line=2)

The package's modules are its parts, each with one job:

    vocabulary      targets, parameters, metrics, sections: the names every other part speaks
    run_config      data, noise, inputs, model, train: one trial's training run (what a worker validates)
    report_config   binned tables, figures, decision rules, key numbers, bootstrap
    sweep           the trials resolved from the base spec, their overrides and --set
    experiment      the whole spec: `Spec`, `load_spec`, the checks across sections
    explain         pydantic's errors as one located sentence
"""

import os as _os

# The spec's models are the engine's own: no pydantic plugin (an observability hook found through
# every installed package's entry points, a scan of the whole environment) needs to watch them,
# so they are built with plugins off, as typer builds its parameters. The variable is the user's
# again as soon as they are built.
_PLUGINS = _os.environ.get("PYDANTIC_DISABLE_PLUGINS")
_os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
try:
    from .experiment import Spec, load_spec, spec_line, spec_schema
    from .explain import dotted, line_at
    from .report_config import Binned, Bootstrap, Comparison, Decision, Figure, KeyNumber, Reproduce, Rule
    from .run_config import DataKeys, DataSpec, ModelSpec, NoiseSpec, Selection, TrialConfig
    from .sweep import Trial, parse_set_option, parse_sweep_option
    from .vocabulary import BIN_PARAMS, METRICS, PARAM_ALIASES, TARGETS, TRAINING_SECTIONS, parse_metric
finally:
    if _PLUGINS is None:
        del _os.environ["PYDANTIC_DISABLE_PLUGINS"]
    else:
        _os.environ["PYDANTIC_DISABLE_PLUGINS"] = _PLUGINS

__all__ = [
    "BIN_PARAMS",
    "METRICS",
    "PARAM_ALIASES",
    "TARGETS",
    "TRAINING_SECTIONS",
    "Binned",
    "Bootstrap",
    "Comparison",
    "DataKeys",
    "DataSpec",
    "Decision",
    "Figure",
    "KeyNumber",
    "ModelSpec",
    "NoiseSpec",
    "Reproduce",
    "Rule",
    "Selection",
    "Spec",
    "Trial",
    "TrialConfig",
    "dotted",
    "line_at",
    "load_spec",
    "parse_metric",
    "parse_set_option",
    "parse_sweep_option",
    "spec_line",
    "spec_schema",
]
