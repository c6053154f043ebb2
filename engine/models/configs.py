"""The configs of the built-in models: what a spec's `model:` mapping may say, per model type.

One frozen dataclass per model (nanoGPT's `GPTConfig` style), checked by `base.config_from`
(unknown keys, wrong types and bad values are a located `SpecError`). They live here, apart from
the models, so that a spec is checked before anything heavy is imported: this module needs
neither numpy nor torch nor lightgbm, and `research check` or a cached re-run stays fast.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal, Optional, Union

#: Ridge's α path when a spec gives neither alpha nor alphas.
DEFAULT_ALPHAS = (1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6)
#: Positions a convolutional layer's feature map is averaged down to when a latent is read off it
#: (a probe's, a `latent` input's) and `pool` is not given.
LATENT_POOL = 16
#: The model types whose stored model has a latent to read (a probe's `of`, a `latent` input's).
NETS = ("mlp", "cnn", "vit")
LGBM_FEATURES = re.compile(r"pixels|binned:[1-9]\d*|pca:[1-9]\d*")
#: Why a built-in model's numbers do not move with its seed, for the types that never do.
SEEDLESS = {
    "ridge": "a closed form: every seed gives the same numbers",
    "fisher_ceiling": "a bound computed from the spectra, not trained",
}


@dataclass(frozen=True)
class TrainingNoise:
    """Whether a trial's numbers move with its seed, and why (words a report can show). A
    stochastic trial's single run is one draw of its training: only its repeats measure how far
    another seed, or another CPU's vector kernels, would move it."""

    stochastic: bool
    why: str


def training_noise(model: dict) -> TrainingNoise:
    """Whether the numbers of a built-in `model:` mapping move with `train.seed` (a plugin, a
    type not built in: assumed to, see `engine.models.training_noise`)."""
    kind = str(model.get("type"))
    if kind in SEEDLESS:
        return TrainingNoise(False, SEEDLESS[kind])
    if kind == "lightgbm":
        sampled = lightgbm_sampling(model)
        if sampled:
            return TrainingNoise(True, f"each tree samples its {sampled} by the seed")
        return TrainingNoise(False, "no sampling (feature_fraction 1, no bagging): every seed grows the same trees")
    if kind == "moe":
        gate = model.get("gate", MoEConfig.gate)
        if gate == "oracle":
            return TrainingNoise(False, "Ridge experts routed by the true bin: a closed form")
        if gate == "logistic":
            return TrainingNoise(True, "the gate's PCA features are fitted on a seeded subset of the spectra")
        return TrainingNoise(True, "the gate trains from a seeded initialisation")
    if kind in ("mlp", "cnn", "vit"):
        return TrainingNoise(True, "a seeded initialisation and batch order")
    if kind == "probe":
        why = "it reads one trained net (one draw of its training)"
        sampled = lightgbm_sampling(model.get("lightgbm") or {}) if model.get("head") == "lightgbm" else None
        return TrainingNoise(
            True, why + (f", and its LightGBM head samples its {sampled} by the seed" if sampled else "")
        )
    if kind == "stored":
        return TrainingNoise(True, "it scores one fitted model (one draw of its training, when it was trained)")
    return TrainingNoise(True, "a plugin: assumed to depend on its seed")


def lightgbm_sampling(params: dict) -> str | None:
    """What LightGBM parameters make each tree sample by the seed ('features', 'rows', 'features
    and rows'), or None: the one statement of when a LightGBM (a model, or a probe's head) is
    seeded, so `training_noise` says the same of both."""
    features = float(params.get("feature_fraction", LightGBMConfig.feature_fraction))
    rows = float(params.get("bagging_fraction", LightGBMConfig.bagging_fraction))
    bagging = int(params.get("bagging_freq", LightGBMConfig.bagging_freq)) > 0 and rows < 1
    return " and ".join(w for w, on in (("features", features < 1), ("rows", bagging)) if on) or None


#: The `train:` keys each model type reads (`val_frac` is the data split's, so every model's);
#: a type not named here (the nets, the probes) reads them all. `research spec` shows these only.
TRAIN_READ = {
    "ridge": ("val_frac", "device"),
    "lightgbm": ("val_frac", "seed"),
    "fisher_ceiling": ("val_frac", "seed"),
    "moe": ("val_frac", "seed", "device"),
}


def shown_config(config: dict) -> dict:
    """A trial's resolved config without the `train:` keys its model does not read (a Ridge has
    no epochs), so a printed spec says only what acts."""
    read = TRAIN_READ.get(str((config.get("model") or {}).get("type")))
    if read is None or not isinstance(config.get("train"), dict):
        return config
    return {**config, "train": {k: v for k, v in config["train"].items() if k in read}}


#: The gate features a MoE gate reads when `features` is not given.
MOE_DEFAULT_FEATURES = {
    "logistic": "phys",
    "mlp_regression": "phys",
    "linear_regression": "phys",
    "dual_tower": "both",
    "quality_only": "quality",
    "oracle": None,
}


@dataclass(frozen=True)
class RidgeConfig:
    alpha: float | None = None  # one fixed α (the penalty on the standardised coefficients)
    alphas: tuple[float, ...] | None = None  # a path, chosen per target; DEFAULT_ALPHAS when neither is given
    standardize: bool = True  # scale every pixel to unit variance before the penalty, as StandardScaler
    fit_intercept: bool = True
    precision: Literal["float64", "float32"] = "float64"  # of the Gram product; sums are float64 always
    # rows read from the split at a time: the read buffer (and the noise's) is fresh memory, which
    # costs more than the arithmetic on it on a small machine; 2048 rows keep it at 32 MiB
    block_rows: int = 2048

    def __post_init__(self) -> None:
        if self.alpha is not None and self.alphas is not None:
            raise ValueError("give either alpha or alphas, not both")
        if self.alpha is not None and not self.alpha >= 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha}")
        if self.alphas is not None and (not self.alphas or min(self.alphas) < 0):
            raise ValueError("alphas must be a non-empty list of numbers >= 0")
        if self.block_rows < 1:
            raise ValueError("block_rows must be positive")

    @property
    def path(self) -> tuple[float, ...]:
        if self.alpha is not None:
            return (self.alpha,)
        return tuple(self.alphas) if self.alphas is not None else DEFAULT_ALPHAS


@dataclass(frozen=True)
class LightGBMConfig:
    features: str = "pixels"  # pixels | binned:<k> | pca:<k>
    n_estimators: int = 1000  # boosting rounds at most (early stopping on val cuts them)
    learning_rate: float = 0.05
    num_leaves: int = 31
    max_depth: int = -1
    min_child_samples: int = 20
    feature_fraction: float = 0.5  # features tried per tree
    bagging_fraction: float = 1.0  # rows per tree (with bagging_freq > 0)
    bagging_freq: int = 0
    lambda_l2: float = 0.0
    max_bin: int = 63
    early_stopping_rounds: int = 50
    threads: int | None = None  # None: os.cpu_count()

    def __post_init__(self) -> None:
        if not LGBM_FEATURES.fullmatch(self.features):
            raise ValueError(f"features: expected 'pixels', 'binned:<k>' or 'pca:<k>', got {self.features!r}")
        if self.n_estimators < 1 or self.num_leaves < 2 or self.early_stopping_rounds < 1:
            raise ValueError("n_estimators and early_stopping_rounds must be >= 1, num_leaves >= 2")
        if not (0 < self.feature_fraction <= 1 and 0 < self.bagging_fraction <= 1 and self.learning_rate > 0):
            raise ValueError("feature_fraction and bagging_fraction must be in (0, 1], learning_rate > 0")


@dataclass(frozen=True)
class MLPConfig:
    hidden: tuple[int, ...] = (512, 256)  # widths of the hidden layers
    dropout: float = 0.0
    activation: Literal["gelu", "relu", "silu"] = "gelu"

    def __post_init__(self) -> None:
        if not self.hidden or min(self.hidden) < 1:
            raise ValueError("hidden must list at least one positive width")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


@dataclass(frozen=True)
class CNNConfig:
    channels: tuple[int, ...] = (16, 32, 64)  # output channels of each conv layer
    kernel: int = 7
    dilation: int | tuple[int, ...] = 2  # one for all layers, or one per layer
    stride: int = 2
    pool: int = 16  # positions kept by the adaptive average pool before the dense layer
    hidden: int = 256  # dense layer after pooling (0: heads straight on the pooled features)
    dropout: float = 0.0
    residual_on: Literal["ridge"] | None = None
    ridge_alpha: float | None = None  # None: chosen on the validation split from the default path

    def __post_init__(self) -> None:
        dilations = self.dilation if isinstance(self.dilation, tuple) else (self.dilation,) * len(self.channels)
        if len(dilations) != len(self.channels):
            raise ValueError(f"dilation lists {len(dilations)} values for {len(self.channels)} layers")
        if not self.channels or min(self.channels) < 1 or self.kernel < 1 or self.stride < 1 or min(dilations) < 1:
            raise ValueError("channels, kernel, stride and dilation must be positive")
        if self.pool < 1 or self.hidden < 0 or not 0 <= self.dropout < 1:
            raise ValueError("pool must be >= 1, hidden >= 0, dropout in [0, 1)")

    @property
    def dilations(self) -> tuple[int, ...]:
        return self.dilation if isinstance(self.dilation, tuple) else (self.dilation,) * len(self.channels)

    @property
    def receptive_field(self) -> int:
        """How many input pixels one position of the last conv layer sees: 1 + Σ (kernel − 1) ·
        dilation_l · stride^l, the number a reader otherwise works out by hand."""
        return 1 + sum((self.kernel - 1) * d * self.stride**layer for layer, d in enumerate(self.dilations))


@dataclass(frozen=True)
class ViTConfig:
    patch: int = 64  # pixels per token
    dim: int = 128  # token width
    depth: int = 4  # transformer blocks
    heads: int = 4
    mlp_ratio: float = 4.0
    dropout: float = 0.0
    pos: Literal["learned", "wave", "none"] = "learned"
    pool: Literal["mean", "cls"] = "mean"

    def __post_init__(self) -> None:
        if min(self.patch, self.dim, self.depth, self.heads) < 1 or self.mlp_ratio <= 0:
            raise ValueError("patch, dim, depth, heads and mlp_ratio must be positive")
        if self.dim % self.heads:
            raise ValueError(f"dim ({self.dim}) must be a multiple of heads ({self.heads})")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


@dataclass(frozen=True)
class MoEConfig:
    experts: Literal["grid", "snr"] = "grid"
    teff_edges: tuple[float, ...] = (3750.0, 4500.0, 5250.0, 6000.0)
    feh_edges: tuple[float, ...] = (-1.0, -2.0 / 3.0, -1.0 / 3.0, 0.0)
    snr_edges: tuple[float, ...] = (0.0, 2.0, 4.0, 7.0, 1e9)  # ≤ 2, 2–4, 4–7, > 7
    alpha: float = 1e4  # ridge penalty of every expert (on standardised pixels)
    gate: Literal["oracle", "logistic", "mlp_regression", "linear_regression", "dual_tower", "quality_only"] = "oracle"
    features: Optional[Literal["phys", "quality", "both"]] = None  # default: by gate (see MOE_DEFAULT_FEATURES)
    hidden: tuple[int, ...] = (32, 16)
    gate_steps: int = 400  # full-batch Adam steps (= epochs) of a regression gate, at most
    gate_lr: float = 1e-2
    gate_weight_decay: float = 1e-4
    gate_patience: Optional[int] = (
        None  # early stopping: steps without a better validation MSE; None: every step, the last kept
    )
    gate_val_frac: float = 0.1  # with gate_patience and no validation split: the gate's training rows held out
    experts_from: Optional[str] = (
        None  # take the experts of a stored moe trial ('phys-gate' or 'path/exp.md#phys-gate')
    )

    def __post_init__(self) -> None:
        for name in ("teff_edges", "feh_edges", "snr_edges"):
            edges = getattr(self, name)
            if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:])):
                raise ValueError(f"{name} must be at least two increasing numbers, got {list(edges)}")
        if self.alpha <= 0 or self.gate_steps < 1 or self.gate_lr <= 0:
            raise ValueError("alpha, gate_steps and gate_lr must be positive")
        if self.gate_patience is not None and self.gate_patience < 1:
            raise ValueError(f"gate_patience must be >= 1, got {self.gate_patience}")
        if not 0 < self.gate_val_frac < 1:
            raise ValueError(f"gate_val_frac must be in (0, 1), got {self.gate_val_frac}")
        if self.experts_from is not None and not self.experts_from.strip():
            raise ValueError("experts_from: name the stored moe trial, e.g. experts_from: phys-gate")

    @property
    def feature_set(self) -> Optional[str]:
        return self.features or MOE_DEFAULT_FEATURES[self.gate]


@dataclass(frozen=True)
class FisherCeilingConfig:
    """The Cramér–Rao ceiling: `exact` differentiates the generator (its data only), `data`
    estimates the derivatives from neighbours in parameter space (any simulated set with an error
    array; slightly optimistic, see engine.data.fisher_local); `auto` is exact where it can be."""

    SCORES = ("sigma", "r2_ceiling")  # what scores() reports: rms Cramér–Rao σ and ceiling R² per target

    method: Literal["auto", "exact", "data"] = "auto"
    neighbours: Optional[int] = None  # data: k of the local fits; None: 3 × the coefficients (42 for 4 parameters)
    nuisance: Optional[tuple[str, ...]] = (
        None  # data: non-target columns to marginalise; None: those that affect the flux
    )

    def __post_init__(self) -> None:
        if self.neighbours is not None and self.neighbours < 3:
            raise ValueError(
                f"neighbours must be >= 3 (a local quadratic needs more points than coefficients), "
                f"got {self.neighbours}"
            )
        if self.method == "exact" and (self.neighbours is not None or self.nuisance is not None):
            raise ValueError("neighbours and nuisance set the data-derived ceiling; method: exact takes neither")
        if self.nuisance is not None and "snr" in self.nuisance:
            raise ValueError("nuisance: snr is computed from the flux, not a parameter of it")


@dataclass(frozen=True)
class StoredConfig:
    """`model: {from: cand}`: the fitted model trial `cand` kept (spec key `from`, a Python keyword)."""

    source: str  # 'cand' (a trial of this report) or 'path/to/exp.md#cand' (relative to the report)


@dataclass(frozen=True)
class _ParamsOf:
    """A mapping field that holds another model's parameters (a probe's `lightgbm:`): its JSON
    schema is that model's config's, so `research spec --schema` lists each parameter where the
    one definition of it is (pydantic calls this hook on `Annotated` metadata; checking a spec
    goes through `base.config_from`, which ignores it)."""

    config: type

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        from pydantic import TypeAdapter

        schema = TypeAdapter(self.config).json_schema()
        schema.pop("title", None)
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
        return {**schema, "additionalProperties": False}  # refused as the model refuses it


#: A probe's `lightgbm:` mapping: the lightgbm model's parameters, with that model's schema.
LightGBMParams = Annotated[dict[str, Any], _ParamsOf(LightGBMConfig)]


@dataclass(frozen=True)
class ProbeConfig:
    """A latent probe: a ridge, a small MLP or LightGBM on the embeddings a stored net makes at one layer."""

    of: str = ""  # the stored mlp / cnn / vit trial: 'cnn' or 'path/to/exp.md#cnn'
    layer: Union[int, str, None] = None  # a module name ('backbone.convs.3') or an index into the backbone's
    #                                       layers (leaf modules, in order; -1 the last); None: the backbone's output
    head: Literal["ridge", "mlp", "lightgbm"] = "ridge"
    alpha: Optional[float] = None  # ridge: one fixed α; neither alpha nor alphas: the default path, chosen on val
    alphas: Optional[tuple[float, ...]] = None
    hidden: tuple[int, ...] = (64,)  # mlp head: its hidden widths (trained with the trial's `train:`)
    lightgbm: Optional[LightGBMParams] = None  # lightgbm head: the lightgbm model's parameters, e.g.
    #                                             {num_leaves: 15, n_estimators: 300} (features: pixels is every embedding feature)
    pool: int = LATENT_POOL  # a convolutional layer's feature map is averaged down to this many positions

    def __post_init__(self) -> None:
        if not self.of.strip():
            raise ValueError("of: name the stored net's trial, e.g. of: cnn (or of: 'path/to/exp.md#cnn')")
        RidgeConfig(alpha=self.alpha, alphas=self.alphas)  # the same rules as a ridge's
        if not self.hidden or min(self.hidden) < 1 or self.pool < 1:
            raise ValueError("hidden must list positive widths and pool be >= 1")
        if self.head != "lightgbm":
            if self.lightgbm is not None:
                raise ValueError(
                    f"lightgbm sets a LightGBM head's parameters, but head is {self.head}: add head: lightgbm"
                )
            return
        from .base import config_from

        # checked as a lightgbm model's (unknown names with did-you-mean, types, ranges), and kept
        # with every default filled in, so a resolved spec and the checkpoint say what acted
        checked = config_from(LightGBMConfig, self.lightgbm or {}, "the probe's LightGBM head", prefix="model.lightgbm")
        object.__setattr__(self, "lightgbm", asdict(checked))

    @property
    def lightgbm_config(self) -> LightGBMConfig:
        """The LightGBM head's config (every parameter filled in by `__post_init__`)."""
        return LightGBMConfig(**(self.lightgbm or {}))


#: `model.type` → its config, for every built-in model.
CONFIGS: dict[str, type] = {
    "ridge": RidgeConfig,
    "lightgbm": LightGBMConfig,
    "mlp": MLPConfig,
    "cnn": CNNConfig,
    "vit": ViTConfig,
    "moe": MoEConfig,
    "fisher_ceiling": FisherCeilingConfig,
    "stored": StoredConfig,
    "probe": ProbeConfig,
}
#: What each model family can read of a trial's `inputs:` (a type not named: anything, as a
#: Ridge, LightGBM, MLP or a plugin reads any matrix). A net convolving or patching along
#: wavelength needs one spectrum; the others read the spectra themselves (a MoE's gate features,
#: a probe's stored net, a stored model's own inputs, the Fisher ceiling's generator).
READS_ONE_SPECTRUM = ("cnn", "vit")
READS_THE_FLUX = ("moe", "probe", "stored", "fisher_ceiling")


def inputs_problem(type_name: str, inputs: Any) -> str | None:
    """Why a `type_name` model cannot read `inputs` (`engine.data.inputs.Inputs`), or None."""
    if inputs.is_flux:
        return None
    if type_name in READS_THE_FLUX:
        return f"a {type_name} model reads the spectra itself, so its inputs must be the flux (leave `inputs:` out)"
    if type_name in READS_ONE_SPECTRUM and not inputs.spectral:
        return (
            f"a {type_name} reads one spectrum along its wavelengths (flux or error, whole, windowed or top-K), "
            f"not {inputs.describe()}: give features or several inputs to a ridge, lightgbm or mlp"
        )
    return None


#: spec key → config field, where the spec's word is a Python keyword
SPEC_NAMES: dict[str, dict[str, str]] = {"stored": {"from": "source"}}
