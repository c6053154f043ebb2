"""`model: {type: fisher_ceiling}`: the Cramér–Rao ceiling as a row of the results table.

Not a learner: it is what an ideal estimator would do on the synthetic test spectra, so a report
can put the information limit next to the models. Its "predictions" are those of the ideal
Bayesian estimator the ceiling describes: for each spectrum, truth plus Gaussian noise at the
spectrum's Cramér–Rao bound, shrunk towards the training labels' mean with the prior variance,

    pred = mean + w (truth + σ_CRB z − mean),   w = V / (V + σ²_CRB)

whose expected squared error is exactly the ceiling's σ²·V / (σ² + V); R², MAE and the binned
tables computed from them are then the ceiling's, up to the sampling of z (seeded: train.seed).
The exact ceiling R² per target is in `info()` (`r2_ceiling`, `r2_unbiased`).
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
        from engine.data.fisher import TARGETS, ceiling_for_split

        self._check_split(split)
        result = ceiling_for_split(split)
        truth = split.labels(self.targets).astype(np.float64)
        rng = np.random.default_rng(self.train.seed)
        z = rng.standard_normal(truth.shape)
        pred = np.empty_like(truth)
        for j, target in enumerate(self.targets):
            sigma = result.sigma[:, TARGETS.index(target)]
            w = self._var[j] / (self._var[j] + sigma**2)
            pred[:, j] = self._mean[j] + w * (truth[:, j] + sigma * z[:, j] - self._mean[j])
        self._info = {
            "noise_level": result.level,
            "r2_ceiling": {t: result.r2[t] for t in self.targets},
            "r2_unbiased": {t: result.r2_unbiased[t] for t in self.targets},
        }
        return pred

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self._mean, "var": self._var}

    def _restore(self, state, arrays) -> None:
        self._mean, self._var = arrays["mean"], arrays["var"]
