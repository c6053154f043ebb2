"""A mixture of Ridge experts with a gate: one expert per bin, the gate weighs their predictions.

    model: {type: moe, experts: grid, gate: dual_tower}

Experts: a streaming ridge (fixed `alpha`) per bin — `grid`: Teff × [Fe/H] cells (edges
`teff_edges`, `feh_edges`; 3 × 3 by default), `snr`: bins of the observed SNR (median flux /
error, divided by the noise level; edges `snr_edges`). Each trains on its own bin's spectra.

Gates give each spectrum a weight per expert (they sum to 1); the prediction is Σ wₖ·expertₖ:

    oracle             the true bin (labels; SNR for snr experts): the ceiling of routing
    logistic           a classifier of the bin from the gate features, soft routing
    mlp_regression     an MLP (hidden 32-16) → softmax, trained on the MSE of the weighted sum
    linear_regression  the same with one linear layer
    dual_tower         mlp_regression on physical + quality features
    quality_only       mlp_regression on quality features only

Gate features (`features`: phys, quality or both; see `engine.models.features`) are standardised
on the training split. The regression gates are trained on the training split with out-of-fold
expert predictions (two folds, each predicted by experts fitted on the other), so the errors they
learn to avoid are honest ones. The weights of the last predicted split are kept (`gate_weights`), and
`extras()` gives their entropy per spectrum for the report.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from . import features as feats
from .base import Log, Model, quiet
from .configs import MoEConfig

GATES = ("oracle", "logistic", "mlp_regression", "linear_regression", "dual_tower", "quality_only")
MIN_BIN_ROWS = 20


class MoE(Model):
    type = "moe"
    Config = MoEConfig

    # -- bins ------------------------------------------------------------------------------------
    def bins(self, split) -> np.ndarray:
        """The expert each spectrum belongs to (0 … K-1), from its labels (grid) or its SNR."""
        cfg = self.config
        if cfg.experts == "snr":
            snr = split.param("snr") / max(split.noise_level, 1e-12) if split.noise_level else split.param("snr")
            return _digitize(snr, cfg.snr_edges)
        t = _digitize(split.param("T_eff"), cfg.teff_edges)
        m = _digitize(split.param("Fe_H"), cfg.feh_edges)
        return t * (len(cfg.feh_edges) - 1) + m

    @property
    def n_bins(self) -> int:
        cfg = self.config
        if cfg.experts == "snr":
            return len(cfg.snr_edges) - 1
        return (len(cfg.teff_edges) - 1) * (len(cfg.feh_edges) - 1)

    @property
    def n_experts(self) -> int:
        return len(self.trained)

    def _expert_of(self, bins: np.ndarray) -> np.ndarray:
        """Bin → column of its expert (the nearest trained bin when a bin had too few spectra)."""
        trained = np.asarray(self.trained)
        return np.abs(bins[:, None] - trained[None, :]).argmin(axis=1)

    # -- fit -------------------------------------------------------------------------------------
    def fit(self, train, val=None, *, log: Log = quiet, progress=None) -> None:
        self._check_split(train)
        if len(self.targets) != 1:
            raise ValueError(f"moe predicts one target at a time, got {list(self.targets)}")
        cfg = self.config
        bins = self.bins(train)
        self.counts = [int((bins == k).sum()) for k in range(self.n_bins)]
        self.trained = [k for k, n in enumerate(self.counts) if n >= MIN_BIN_ROWS]  # fewer: go to the nearest expert
        if not self.trained:
            raise ValueError(f"no bin has {MIN_BIN_ROWS} training spectra (rows per bin {self.counts}); widen the bin edges")
        self.coef, self.intercept = self._fit_experts(train, bins)
        log(f"moe: {len(self.trained)} {cfg.experts} experts (ridge α={cfg.alpha:g}), training rows per bin {self.counts}")
        bins = self._expert_of(bins)

        self.pca = None
        self.scaler = None
        self.gate_state: dict[str, np.ndarray] = {}
        if cfg.gate == "oracle":
            return
        self.pca = feats.fit_pca(train, seed=self.train.seed)
        x_train = self._gate_inputs(train, fit_scaler=True)
        if cfg.gate == "logistic":
            from sklearn.linear_model import LogisticRegression

            clf = LogisticRegression(max_iter=2000, C=1.0)
            clf.fit(x_train, bins)
            self.gate_state = {"classes": clf.classes_.astype(np.int64), "coef": clf.coef_, "intercept": clf.intercept_}
            log(f"gate logistic: train accuracy {clf.score(x_train, bins):.3f}")
            return
        self._fit_regression_gate(train, x_train, bins, log)

    def _fit_experts(self, split, bins: np.ndarray, fallback=None) -> tuple[np.ndarray, np.ndarray]:
        """(P, K) coefficients and (K,) intercepts of a ridge per trained bin, fitted on `split`.

        A bin with too few rows in `split` takes the expert from `fallback` (coef, intercept)."""
        from .ridge import Ridge, RidgeConfig

        coefs, intercepts = [], []
        for column, k in enumerate(self.trained):
            rows = split.index[bins == k]
            if len(rows) < MIN_BIN_ROWS and fallback is not None:
                coefs.append(fallback[0][:, column])
                intercepts.append(float(fallback[1][column]))
                continue
            expert = Ridge(RidgeConfig(alpha=self.config.alpha), self.train, self.targets)
            expert.fit(replace(split, index=rows))
            coefs.append(expert.coef[:, 0])
            intercepts.append(float(expert.intercept[0]))
        return np.stack(coefs, axis=1), np.asarray(intercepts)

    def _out_of_fold(self, train) -> np.ndarray:
        """Expert predictions for every training spectrum from experts that did not see it (2 folds).

        On their own training rows ridge experts look far better than they are; a gate trained on
        that would trust them blindly."""
        bins = self.bins(train)
        fold = np.arange(len(train)) % 2
        out = np.empty((len(train), self.n_experts))
        for f in (0, 1):
            fit_on, predict_on = replace(train, index=train.index[fold != f]), replace(train, index=train.index[fold == f])
            coef, intercept = self._fit_experts(fit_on, bins[fold != f], fallback=(self.coef, self.intercept))
            out[fold == f] = self._expert_predictions(predict_on, coef, intercept)
        return out

    def _gate_inputs(self, split, *, fit_scaler: bool = False) -> np.ndarray:
        phys, quality = feats.raw_features(split, self.pca)
        chosen = {"phys": phys, "quality": quality, "both": np.hstack([phys, quality])}[self.config.feature_set]
        if fit_scaler:
            std = chosen.std(axis=0)
            self.scaler = (chosen.mean(axis=0), np.where(std > 0, std, 1.0))
        mean, std = self.scaler
        return (chosen - mean) / std

    def _fit_regression_gate(self, train, x_train: np.ndarray, bins: np.ndarray, log: Log) -> None:
        import torch

        torch.manual_seed(self.train.seed)
        x = torch.from_numpy(x_train).float()
        preds = torch.from_numpy(self._out_of_fold(train)).float()
        y = torch.from_numpy(train.labels(self.targets)[:, 0].astype(np.float64)).float()
        net = _gate_net(x.shape[1], self.n_experts, self.config)
        opt = torch.optim.Adam(net.parameters(), lr=self.config.gate_lr, weight_decay=self.config.gate_weight_decay)
        for _ in range(self.config.gate_steps):
            opt.zero_grad()
            loss = torch.mean((torch.softmax(net(x), dim=1) * preds).sum(dim=1).sub(y) ** 2)
            loss.backward()
            opt.step()
        self.gate_state = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
        log(f"gate {self.config.gate} ({self.config.feature_set} features): out-of-fold train mse {float(loss.detach()):.4g}")

    # -- predict ---------------------------------------------------------------------------------
    def _expert_predictions(self, split, coef=None, intercept=None) -> np.ndarray:
        coef = self.coef if coef is None else coef
        intercept = self.intercept if intercept is None else intercept
        out = np.empty((len(split), coef.shape[1]))
        for block in split.blocks():
            out[block.start : block.start + len(block.index)] = block.x.astype(np.float64) @ coef + intercept
        return out

    def weights(self, split) -> np.ndarray:
        """(rows, K) gate weights, each row summing to 1."""
        cfg = self.config
        if cfg.gate == "oracle":
            return np.eye(self.n_experts)[self._expert_of(self.bins(split))]
        x = self._gate_inputs(split)
        if cfg.gate == "logistic":
            logits = x @ self.gate_state["coef"].T + self.gate_state["intercept"]
            if logits.shape[1] == 1:  # two classes: sklearn keeps one column
                logits = np.hstack([-logits, logits]) / 2
            w = np.zeros((len(x), self.n_experts))
            w[:, self.gate_state["classes"]] = _softmax(logits)
            return w
        import torch

        net = _gate_net(x.shape[1], self.n_experts, cfg)
        net.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in self.gate_state.items()})
        with torch.no_grad():
            return torch.softmax(net(torch.from_numpy(x).float()), dim=1).double().numpy()

    def predict(self, split) -> np.ndarray:
        self._check_split(split)
        self.gate_weights = self.weights(split)
        return (self.gate_weights * self._expert_predictions(split)).sum(axis=1, keepdims=True)

    def extras(self) -> dict[str, np.ndarray]:
        """Per spectrum of the last predicted split: gate entropy (nats) and the top expert."""
        w = np.clip(self.gate_weights, 1e-300, 1.0)
        return {"gate_entropy": -(self.gate_weights * np.log(w)).sum(axis=1), "gate_top": self.gate_weights.argmax(axis=1)}

    def info(self) -> dict[str, Any]:
        out = {"experts": self.config.experts, "n_experts": self.n_experts, "rows_per_bin": getattr(self, "counts", None),
               "trained_bins": list(self.trained),
               "gate": self.config.gate, "features": self.config.feature_set, "alpha": self.config.alpha}
        if getattr(self, "gate_weights", None) is not None:
            out["mean_gate_entropy"] = float(self.extras()["gate_entropy"].mean())
            out["max_entropy"] = math.log(self.n_experts)
        return out

    # -- checkpoint ------------------------------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = {"coef": self.coef, "intercept": self.intercept, "trained": np.asarray(self.trained)}
        if self.pca is not None:
            arrays.update(pca_mean=self.pca.mean, pca_components=self.pca.components,
                          scaler_mean=self.scaler[0], scaler_std=self.scaler[1])
        arrays.update({f"gate.{k}": np.asarray(v) for k, v in self.gate_state.items()})
        return arrays

    def _restore(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.coef, self.intercept = arrays["coef"], arrays["intercept"]
        self.trained = [int(k) for k in arrays["trained"]]
        self.pca = feats.PCA(arrays["pca_mean"], arrays["pca_components"]) if "pca_mean" in arrays else None
        self.scaler = (arrays["scaler_mean"], arrays["scaler_std"]) if "scaler_mean" in arrays else None
        self.gate_state = {k[len("gate."):]: v for k, v in arrays.items() if k.startswith("gate.")}


def _gate_net(n_in: int, n_out: int, cfg: MoEConfig):
    from torch import nn

    if cfg.gate == "linear_regression":
        return nn.Linear(n_in, n_out)
    layers, width = [], n_in
    for h in cfg.hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    return nn.Sequential(*layers, nn.Linear(width, n_out))


def _digitize(values: np.ndarray, edges) -> np.ndarray:
    """Bin index of each value; values outside the edges go to the first or last bin."""
    return np.clip(np.searchsorted(np.asarray(edges, dtype=float), values, side="right") - 1, 0, len(edges) - 2)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
