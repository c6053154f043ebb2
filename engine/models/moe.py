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

**Experts fitted once.** The experts do not depend on the gate, so a report comparing gates
would fit the same nine ridges in every trial (and a regression gate three times: all rows and
each out-of-fold half). When `run_trial` hands the model a workspace with an artifacts folder
(the run store's), the experts are an artifact of their own, `experts/<key[:2]>/<key>/`
(`experts.npz`: every bin's expert; `oof.npz`: the two halves' experts, made when a regression
gate first needs them), keyed by what decides them — the expert kind and edges, α, the training
split's fingerprint (rows, source, noise), the targets, the resolved device and the code hash —
so every gate trial with the same expert config and data shares them, in one run and across
runs. `experts_from: <trial>` (or `path/to/exp.md#trial`) takes the experts of a stored moe
trial instead: its experts' artifact, or its checkpoint's experts when that is gone. On other
training data than the source's, a regression gate then learns from the source experts'
predictions of its training rows (honest when those rows are not the source's). `info()` says
which: `experts_source` (fitted, shared, from …) and `expert_fits` (ridge fits this trial made).

**Gate training.** A regression gate takes up to `gate_steps` full-batch Adam steps (one step
is one epoch over the gate's rows). With `gate_patience` it stops early when the validation MSE
of the weighted expert sum has not improved for that many steps, and keeps its best state: on
the `val` split the trial passes to `fit` (experts never saw it), or, without one, on
`gate_val_frac` of the gate's training rows held out (their out-of-fold predictions). `info()`
records `best_epoch`, `epochs_run`, `stopped_early` and `gate_validation`. Without
`gate_patience` every step runs and the last state is kept (the numbers of before).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import features as feats
from .base import Log, Model, load_checkpoint, quiet, resolve_device, save_checkpoint
from .configs import MoEConfig

GATES = ("oracle", "logistic", "mlp_regression", "linear_regression", "dual_tower", "quality_only")
MIN_BIN_ROWS = 20
EXPERTS_DIR = "experts"  # under the workspace's artifacts folder (the run store)


class MoE(Model):
    type = "moe"
    Config = MoEConfig

    pca: feats.PCA | None  # of the gate features; None with the oracle gate
    scaler: tuple[np.ndarray, np.ndarray] | None  # the gate features' (mean, std), set with the pca

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
        self._fits = 0
        self._info = {}
        self._experts(train, bins, log)
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
        self._fit_regression_gate(train, x_train, bins, log, val)

    # -- the experts: fitted once, shared ---------------------------------------------------------
    def _expert_store(self) -> Path | None:
        folder = self.workspace.artifacts
        return Path(folder) / EXPERTS_DIR if folder is not None else None

    def expert_key(self, train) -> str:
        """What decides the experts (not the gate): kind, edges, α, the training split, targets, device, code."""
        cfg = self.config
        edges = (
            {"snr_edges": cfg.snr_edges}
            if cfg.experts == "snr"
            else {"teff_edges": cfg.teff_edges, "feh_edges": cfg.feh_edges}
        )
        spec = {
            "experts": cfg.experts,
            **edges,
            "alpha": cfg.alpha,
            "split": train.fingerprint(),
            "targets": list(self.targets),
            "min_rows": MIN_BIN_ROWS,
            "device": resolve_device(self.train.device),
            "code": self.workspace.code,
        }
        return hashlib.sha256(json.dumps(spec, sort_keys=True, default=list).encode()).hexdigest()[:16]

    def _artifact(self, key: str, name: str) -> dict[str, np.ndarray] | None:
        store = self._expert_store()
        path = store / key[:2] / key / f"{name}.npz" if store is not None else None
        if path is None or not path.is_file():
            return None
        try:
            meta, arrays = load_checkpoint(path)
        except (OSError, ValueError):
            return None  # a damaged artifact: fitted again, and replaced
        return arrays if meta.get("key") == key else None

    def _keep(self, key: str, name: str, arrays: dict[str, np.ndarray], train) -> None:
        store = self._expert_store()
        if store is None:
            return
        folder = store / key[:2] / key
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": 1,
            "key": key,
            "what": name,
            "split": train.fingerprint(),
            "rows": len(train),
            "experts": self.config.experts,
            "alpha": self.config.alpha,
            "targets": list(self.targets),
        }
        save_checkpoint(folder / f"{name}.npz", meta, arrays)  # a temp file renamed in: whole or absent

    def _experts(self, train, bins: np.ndarray, log: Log) -> None:
        """The experts (`coef`, `intercept`, `trained`): a stored trial's, the shared artifact, or fitted (and kept)."""
        cfg = self.config
        self._oof_from_full = False
        self.experts_key = None
        if cfg.experts_from is not None:
            self._experts_from(train, log)
            return
        self.trained = [k for k, n in enumerate(self.counts) if n >= MIN_BIN_ROWS]  # fewer: go to the nearest expert
        if not self.trained:
            raise ValueError(
                f"no bin has {MIN_BIN_ROWS} training spectra (rows per bin {self.counts}); widen the bin edges"
            )
        key = self.expert_key(train) if self._expert_store() is not None else None
        self.experts_key = key
        stored = self._artifact(key, "experts") if key else None
        if stored is not None and [int(k) for k in stored["trained"]] == self.trained:
            self.coef, self.intercept = stored["coef"], stored["intercept"]
            how = "shared"
        else:
            self.coef, self.intercept = self._fit_experts(train, bins)
            if key:
                self._keep(
                    key,
                    "experts",
                    {"coef": self.coef, "intercept": self.intercept, "trained": np.asarray(self.trained)},
                    train,
                )
            how = "fitted"
        self._info["experts_source"] = how
        log(
            f"moe: {len(self.trained)} {cfg.experts} experts (ridge α={cfg.alpha:g}, {how}"
            + (f" {key}" if key else "")
            + f"), training rows per bin {self.counts}"
        )

    def _experts_from(self, train, log: Log) -> None:
        """`experts_from`: the experts of a stored moe trial (its artifact, else its checkpoint's)."""
        cfg = self.config
        folder = self.workspace.source("experts_from")
        meta, arrays = load_checkpoint(folder / "model.npz")
        if meta.get("type") != "moe":
            raise ValueError(f"experts_from '{cfg.experts_from}' is a {meta.get('type')} model, not a moe")
        theirs: Any = meta.get("config") or {}  # the source's config as its checkpoint's JSON
        names = ("experts", "snr_edges") if cfg.experts == "snr" else ("experts", "teff_edges", "feh_edges")
        ours = asdict(cfg)
        different = [n for n in names if list(np.atleast_1d(theirs.get(n))) != list(np.atleast_1d(ours[n]))]
        if different:
            raise ValueError(
                f"experts_from '{cfg.experts_from}': its experts have other {', '.join(different)} "
                f"({', '.join(f'{n}={theirs.get(n)}' for n in different)}); give this trial the same"
            )
        key = (meta.get("info") or {}).get("experts_key")
        stored = self._artifact(key, "experts") if key else None
        source = stored if stored is not None else arrays
        self.coef, self.intercept = source["coef"], source["intercept"]
        self.trained = [int(k) for k in source["trained"]]
        self.experts_key = key
        same_split = bool(key) and key == (self.expert_key(train) if self._expert_store() is not None else None)
        self._oof_from_full = not same_split  # other training rows: the source's experts predict them honestly
        self._info["experts_source"] = f"from {cfg.experts_from}"
        log(
            f"moe: the {len(self.trained)} {cfg.experts} experts of '{cfg.experts_from}' ({folder.name}), not refitted"
            + ("" if same_split else "; the gate learns from their predictions of this trial's training rows")
        )

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
            self._fits = getattr(self, "_fits", 0) + 1
            coefs.append(expert.coef[:, 0])
            intercepts.append(float(expert.intercept[0]))
        return np.stack(coefs, axis=1), np.asarray(intercepts)

    def _out_of_fold(self, train) -> np.ndarray:
        """Expert predictions for every training spectrum from experts that did not see it (2 folds).

        On their own training rows ridge experts look far better than they are; a gate trained on
        that would trust them blindly. The halves' experts are shared like the experts (`oof.npz`)."""
        if self._oof_from_full:  # experts from another trial, fitted on other rows
            return self._expert_predictions(train)
        bins = self.bins(train)
        fold = np.arange(len(train)) % 2
        out = np.empty((len(train), self.n_experts))
        key = self.experts_key
        stored = self._artifact(key, "oof") if key else None
        halves = {}
        for f in (0, 1):
            fit_on, predict_on = (
                replace(train, index=train.index[fold != f]),
                replace(train, index=train.index[fold == f]),
            )
            if stored is not None:
                coef, intercept = stored[f"fold{f}.coef"], stored[f"fold{f}.intercept"]
            else:
                coef, intercept = self._fit_experts(fit_on, bins[fold != f], fallback=(self.coef, self.intercept))
            halves.update({f"fold{f}.coef": coef, f"fold{f}.intercept": intercept})
            out[fold == f] = self._expert_predictions(predict_on, coef, intercept)
        if stored is None and key:
            self._keep(key, "oof", halves, train)
        return out

    def _gate_inputs(self, split, *, fit_scaler: bool = False) -> np.ndarray:
        assert self.pca is not None  # a gate with inputs has fitted (or restored) the pca
        phys, quality = feats.raw_features(split, self.pca)
        chosen = {"phys": phys, "quality": quality, "both": np.hstack([phys, quality])}[self.config.feature_set]
        if fit_scaler:
            std = chosen.std(axis=0)
            self.scaler = (chosen.mean(axis=0), np.where(std > 0, std, 1.0))
        assert self.scaler is not None  # fitted with fit_scaler on the training split
        mean, std = self.scaler
        return (chosen - mean) / std

    def _fit_regression_gate(self, train, x_train: np.ndarray, bins: np.ndarray, log: Log, val=None) -> None:
        import torch

        cfg = self.config
        torch.manual_seed(self.train.seed)
        x = torch.from_numpy(x_train).float()
        preds = torch.from_numpy(self._out_of_fold(train)).float()
        y = torch.from_numpy(train.labels(self.targets)[:, 0].astype(np.float64)).float()
        net = _gate_net(x.shape[1], self.n_experts, cfg)
        how = None
        if cfg.gate_patience is not None:  # a validation set to stop on
            if val is not None and len(val):
                self._check_split(val)
                xv = torch.from_numpy(self._gate_inputs(val)).float()
                pv = torch.from_numpy(self._expert_predictions(val)).float()
                yv = torch.from_numpy(val.labels(self.targets)[:, 0].astype(np.float64)).float()
                how = f"the validation split ({len(val)} spectra)"
            else:
                held = np.random.default_rng(self.train.seed).random(len(x_train)) < cfg.gate_val_frac
                if held.all() or not held.any():
                    held = np.arange(len(x_train)) % max(2, round(1 / cfg.gate_val_frac)) == 0
                keep = torch.from_numpy(~held)
                out = torch.from_numpy(held)
                xv, pv, yv = x[out], preds[out], y[out]
                x, preds, y = x[keep], preds[keep], y[keep]
                how = f"{int(held.sum())} of the gate's training rows held out ({cfg.gate_val_frac:g})"
        opt = torch.optim.Adam(net.parameters(), lr=cfg.gate_lr, weight_decay=cfg.gate_weight_decay)

        def mse(inputs, expert_preds, truth):
            return torch.mean((torch.softmax(net(inputs), dim=1) * expert_preds).sum(dim=1).sub(truth) ** 2)

        best = {"loss": math.inf, "step": cfg.gate_steps, "state": None}
        bad, steps_run = 0, 0
        for step in range(cfg.gate_steps):
            opt.zero_grad()
            loss = mse(x, preds, y)
            loss.backward()
            opt.step()
            steps_run = step + 1
            if how is None:
                continue
            with torch.no_grad():
                monitored = float(mse(xv, pv, yv))
            if monitored < best["loss"] * (1 - 1e-6):
                best = {
                    "loss": monitored,
                    "step": steps_run,
                    "state": {k: v.detach().clone() for k, v in net.state_dict().items()},
                }
                bad = 0
            else:
                bad += 1
                if bad >= cfg.gate_patience:
                    break
        if best["state"] is not None:
            net.load_state_dict(best["state"])
        self.gate_state = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
        stopped = steps_run < cfg.gate_steps
        self._info.update(
            {
                "best_epoch": best["step"] if how is not None else steps_run,
                "epochs_run": steps_run,
                "stopped_early": stopped,
                "gate_validation": how,
                "best_val_mse": best["loss"] if how is not None else None,
            }
        )
        with torch.no_grad():
            train_mse = float(mse(x, preds, y))
        line = f"gate {cfg.gate} ({cfg.feature_set} features): out-of-fold train mse {train_mse:.4g}"
        if how is not None:
            line += (
                f"; best validation mse {best['loss']:.4g} at step {best['step']} of {steps_run}"
                + (f" (stopped early: no better for {cfg.gate_patience} steps)" if stopped else "")
                + f", on {how}"
            )
        log(line)

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
        """Per spectrum of the last predicted split: gate entropy (nats), the top expert, and the
        soft weight on each trained expert (rows × experts, for the weight-distribution figure)."""
        w = np.clip(self.gate_weights, 1e-300, 1.0)
        return {
            "gate_entropy": -(self.gate_weights * np.log(w)).sum(axis=1),
            "gate_top": self.gate_weights.argmax(axis=1),
            "gate_weights": np.asarray(self.gate_weights, dtype=np.float32),
        }

    def info(self) -> dict[str, Any]:
        out = dict(self._info)  # what the fit recorded (kept in a checkpoint's meta)
        out.update(
            {
                "experts": self.config.experts,
                "n_experts": self.n_experts,
                "rows_per_bin": getattr(self, "counts", None) or out.get("rows_per_bin"),
                "trained_bins": list(self.trained),
                "gate": self.config.gate,
                "features": self.config.feature_set,
                "alpha": self.config.alpha,
            }
        )
        if hasattr(self, "_fits"):
            out["expert_fits"] = self._fits
        if getattr(self, "experts_key", None):
            out["experts_key"] = self.experts_key
        if getattr(self, "gate_weights", None) is not None:
            out["mean_gate_entropy"] = float(self.extras()["gate_entropy"].mean())
            out["max_entropy"] = math.log(self.n_experts)
        return out

    # -- checkpoint ------------------------------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = {"coef": self.coef, "intercept": self.intercept, "trained": np.asarray(self.trained)}
        if self.pca is not None:
            assert self.scaler is not None  # fitted with the pca
            arrays.update(
                pca_mean=self.pca.mean,
                pca_components=self.pca.components,
                scaler_mean=self.scaler[0],
                scaler_std=self.scaler[1],
            )
        arrays.update({f"gate.{k}": np.asarray(v) for k, v in self.gate_state.items()})
        return arrays

    def _restore(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.coef, self.intercept = arrays["coef"], arrays["intercept"]
        self.trained = [int(k) for k in arrays["trained"]]
        self.pca = feats.PCA(arrays["pca_mean"], arrays["pca_components"]) if "pca_mean" in arrays else None
        self.scaler = (arrays["scaler_mean"], arrays["scaler_std"]) if "scaler_mean" in arrays else None
        self.gate_state = {k[len("gate.") :]: v for k, v in arrays.items() if k.startswith("gate.")}


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
