"""Gradient-boosted trees (LightGBM), one booster per target, on pixels or reduced features.

    model: {type: lightgbm, features: binned:4, n_estimators: 2000, learning_rate: 0.05}

`features`: `pixels` (all of them), `binned:<k>` (the mean of every k adjacent pixels) or
`pca:<k>` (the first k principal components of the training fluxes, from the same streaming
XᵀX pass as ridge, so the raw matrix is never held twice). The feature matrix is binned into a
LightGBM Dataset once and shared by the boosters of all targets (only the label changes).
Early stopping uses the validation split. Threads are the machine's; a seed makes it repeatable
(`deterministic=True`, every LightGBM seed set). On 4096 features and 2 cores, Dataset
construction dominates short fits (PERFORMANCE.md); `max_bin: 63` and `feature_fraction: 0.5`
keep it and each round cheaper, with little loss on smooth spectra.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .base import Log, Model, quiet
from .configs import LightGBMConfig


class LightGBM(Model):
    type = "lightgbm"
    Config = LightGBMConfig

    boosters: dict[str, Any]

    # -- features ------------------------------------------------------------------------------

    def _fit_features(self, train, progress) -> None:
        kind, _, k = self.config.features.partition(":")
        self._kind, self._k = kind, int(k or 0)
        if kind == "pca":
            from scipy.linalg import eigh

            from .ridge import moments

            mo = moments(train, center=True, progress=progress)
            assert mo.gram is not None  # a fresh pass
            p = len(mo.gram)
            k = min(self._k, p)
            _, vecs = eigh(mo.gram, subset_by_index=(p - k, p - 1), overwrite_a=True, check_finite=False)
            self._mean, self._components = mo.mean_x.astype(np.float32), vecs[:, ::-1].astype(np.float32).copy()

    def _features(self, split) -> np.ndarray:
        """(rows, features) float32, built block by block."""
        parts = []
        for block in split.blocks():
            x = block.x
            if self._kind == "binned":
                starts = np.arange(0, x.shape[1], self._k)
                counts = np.diff(np.append(starts, x.shape[1])).astype(np.float32)
                x = np.add.reduceat(x, starts, axis=1) / counts
            elif self._kind == "pca":
                x = (x - self._mean) @ self._components
            parts.append(np.ascontiguousarray(x, dtype=np.float32))
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    # -- fit / predict -------------------------------------------------------------------------

    def _params(self) -> dict[str, Any]:
        c, seed = self.config, self.train.seed
        return {
            "objective": "regression",
            "learning_rate": c.learning_rate,
            "num_leaves": c.num_leaves,
            "max_depth": c.max_depth,
            "min_child_samples": c.min_child_samples,
            "feature_fraction": c.feature_fraction,
            "bagging_fraction": c.bagging_fraction,
            "bagging_freq": c.bagging_freq,
            "lambda_l2": c.lambda_l2,
            "max_bin": c.max_bin,
            "num_threads": c.threads or os.cpu_count() or 1,
            "force_col_wise": True,
            "deterministic": True,
            "seed": seed,
            "bagging_seed": seed,
            "feature_fraction_seed": seed,
            "data_random_seed": seed,
            "verbosity": -1,
        }

    def fit(self, train, val=None, *, log: Log = quiet, progress=None) -> None:
        import lightgbm as lgb

        self._check_split(train)
        t0 = time.perf_counter()
        self._fit_features(train, progress)
        x, y = self._features(train), train.labels().T.copy()  # a row per target: contiguous labels
        params = self._params()
        data = lgb.Dataset(x, label=y[0], params=params, free_raw_data=True).construct()
        del x
        valid = None
        if val is not None and len(val):
            self._check_split(val)
            y_val = val.labels().T.copy()
            valid = lgb.Dataset(self._features(val), label=y_val[0], reference=data, params=params).construct()
        log(
            f"lightgbm: {data.num_data()} rows × {data.num_feature()} features ({self.config.features}), "
            f"dataset {time.perf_counter() - t0:.1f} s"
        )

        self.boosters, best = {}, {}
        for i, target in enumerate(self.targets):
            t1 = time.perf_counter()
            data.set_label(y[i])
            callbacks: list[Callable[..., Any]] = []
            if valid is not None:
                valid.set_label(y_val[i])
                callbacks.append(lgb.early_stopping(self.config.early_stopping_rounds, verbose=False))
            task = progress.task(f"lightgbm {target}", total=self.config.n_estimators) if progress else None
            if task:
                callbacks.append(lambda env, task=task: task.advance())
            booster = lgb.train(
                params,
                data,
                num_boost_round=self.config.n_estimators,
                valid_sets=[valid] if valid is not None else None,
                callbacks=callbacks,
            )
            if task:
                task.done()
            self.boosters[target] = booster
            best[target] = int(booster.best_iteration or booster.current_iteration())
            score = booster.best_score.get("valid_0", {}).get("l2") if valid is not None else None
            log(
                f"lightgbm {target}: {best[target]} rounds"
                + (f", val rmse {np.sqrt(score):.4g}" if score is not None else "")
                + f" ({time.perf_counter() - t1:.1f} s)"
            )
        self._info = {
            "best_iteration": best,
            "n_features": int(data.num_feature()),
            "features": self.config.features,
            "threads": params["num_threads"],
            "device": "cpu",
            "seconds": round(time.perf_counter() - t0, 3),
        }

    def predict(self, split) -> np.ndarray:
        x = self._features(split)
        cols = [
            self.boosters[t].predict(
                x, num_iteration=self._info["best_iteration"][t], num_threads=self._params()["num_threads"]
            )
            for t in self.targets
        ]
        return np.stack(cols, axis=1).astype(np.float64)

    # -- checkpoint ----------------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        return {"kind": self._kind, "k": self._k}

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {
            f"booster/{t}": np.frombuffer(b.model_to_string().encode(), dtype=np.uint8)
            for t, b in self.boosters.items()
        }
        if self._kind == "pca":
            arrays.update({"pca/mean": self._mean, "pca/components": self._components})
        return arrays

    def _restore(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        import lightgbm as lgb

        self._kind, self._k = state["kind"], state["k"]
        if self._kind == "pca":
            self._mean, self._components = arrays["pca/mean"], arrays["pca/components"]
        self.boosters = {t: lgb.Booster(model_str=arrays[f"booster/{t}"].tobytes().decode()) for t in self.targets}
