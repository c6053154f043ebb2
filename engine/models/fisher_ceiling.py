"""`model: {type: fisher_ceiling}`: the Cramér–Rao ceiling as a row of the results table.

Not a learner: it is what an ideal estimator would do on the test spectra, so a report can put
the information limit next to the models. Its "predictions" are those of the ideal Bayesian
estimator the ceiling describes: for each spectrum, truth plus Gaussian noise at the spectrum's
Cramér–Rao bound, shrunk towards the training labels' mean with the prior variance,

    pred = mean + w (truth + σ_CRB z − mean),   w = V / (V + σ²_CRB)

whose expected squared error is exactly the ceiling's σ²·V / (σ² + V); R², MAE and the binned
tables computed from them are then the ceiling's, up to the sampling of z (seeded: train.seed).

`method` (engine.data.fisher_local.ceiling_of): `exact` differentiates the generator, so only
its own data qualify; `data` estimates the derivatives from each spectrum's neighbours in
parameter space (engine.data.fisher_local: any simulated set with noise-free flux and an error
array; slightly optimistic); `auto`, the default, is exact wherever the current generator made
the data — so the synthetic examples keep the exact numbers — and data-derived elsewhere.

Besides the predictions, each `predict(split)` leaves the bound itself for that split (the
last one asked): `extras()` the per-spectrum σ (`sigma.<target>`), `scores()` the rms σ and the
ceiling R² per target, so a rule can compare a model's error with the bound in one expression
(`best.rmse.log_g / trials.ceiling.sigma.log_g`). The ceiling R² in both forms is in `info()`.
"""

from __future__ import annotations

import numpy as np

from .base import Model, quiet
from .configs import FisherCeilingConfig


class FisherCeiling(Model):
    type = "fisher_ceiling"
    Config = FisherCeilingConfig

    def fit(self, train, val=None, *, log=quiet, progress=None) -> None:
        labels = train.labels(self.targets).astype(np.float64)
        self._mean = labels.mean(axis=0)
        self._var = labels.var(axis=0)
        log("fisher_ceiling: no training; prior mean and variance from the training labels")

    def predict(self, split) -> np.ndarray:
        from engine.data.fisher_local import ceiling_of

        self._check_split(split)
        config = self.config
        result = ceiling_of(split, method=config.method, neighbours=config.neighbours, nuisance=config.nuisance)
        truth = split.labels(self.targets).astype(np.float64)
        rng = np.random.default_rng(self.train.seed)
        z = rng.standard_normal(truth.shape)
        pred = np.empty_like(truth)
        sigmas = {}
        for j, target in enumerate(self.targets):
            sigma = result.sigma_of(target)
            sigmas[target] = np.asarray(sigma, dtype=np.float64)
            w = self._var[j] / (self._var[j] + sigma**2)
            pred[:, j] = self._mean[j] + w * (truth[:, j] + sigma * z[:, j] - self._mean[j])
            blind = np.isinf(sigma)  # the data say nothing about this target here: the prior mean
            if blind.any():
                pred[blind, j] = self._mean[j]
        self._info = {
            "noise_level": result.level,
            "r2_ceiling": {t: result.r2[_canonical(t)] for t in self.targets},
            "r2_unbiased": {t: result.r2_unbiased[_canonical(t)] for t in self.targets},
            "method": result.method,
        }
        if result.method == "data":
            self._info["data_ceiling"] = result.details
        self._extras = {f"sigma.{t}": s.copy() for t, s in sigmas.items()}
        self._scores = {
            "sigma": {t: float(np.sqrt(np.mean(s**2))) for t, s in sigmas.items()},
            "r2_ceiling": {t: float(result.r2[_canonical(t)]) for t in self.targets},
        }
        return pred

    def extras(self) -> dict[str, np.ndarray]:
        """Per spectrum of the last split predicted: its Cramér–Rao σ per target (float64, split order)."""
        return dict(getattr(self, "_extras", {}))

    def scores(self) -> dict[str, dict[str, float]]:
        """For the last split predicted: `sigma` (rms σ, √mean σ²) and `r2_ceiling` per target."""
        return {name: dict(values) for name, values in getattr(self, "_scores", {}).items()}

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self._mean, "var": self._var}

    def _restore(self, state, arrays) -> None:
        self._mean, self._var = arrays["mean"], arrays["var"]


def _canonical(target: str) -> str:
    return "Fe_H" if target == "M_H" else target
