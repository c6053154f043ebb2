"""What the nets (mlp, cnn, vit) share: the regression wrapper, the data feed and the training loop.

A net file defines only its config dataclass and its backbone (an `nn.Module` built from
`(config, n_pixels, wave)` with an `n_features` attribute). `Regressor` puts around it:

    x → per-pixel standardisation (fitted on train) → backbone → one linear head per target
      → × y_scale + y_mean (+ a ridge prediction, with `residual_on: ridge`)

so a checkpoint is the whole predictor. `NetModel.fit` trains it:

- data is read once into tensors on the device (pinned on the way to a GPU) and standardised
  there once, in place (`Scalers`: the very operations the forward would do on every batch,
  so the same bits); batches are gathered there with a seeded permutation; when the split redraws the
  noise is drawn on the device per batch from (seed, epoch, global row) — the same numbers the
  numpy reader would give — and standardised per batch;
- the loss is the mean squared error of each standardised target, weighted `equal`, by a
  `{target: weight}` mapping, `inverse_variance` (1 / the target's error variance in the last
  epoch, normalised to mean 1; standardisation already makes `equal` the inverse *label*
  variance weighting), or `uncertainty` (learned log-variances s: Σ ½·e^(−s)·L + ½·s, Kendall
  et al. 2018);
- AdamW (no decay on biases, norms and log-variances), cosine (with warm-up) or plateau
  schedule, early stopping on the validation loss with `patience`, the best epoch kept;
- every epoch's losses, learning rate and validation R² kept in `info()["curves"]` (`Curves`),
  so a report can draw the training curves without re-running anything;
- bf16 autocast on cuda when `amp`; on CPU, same seed → same predictions.
"""

from __future__ import annotations

import math
import time
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from engine.progress import SILENT, epoch_line

from .base import Log, Model, quiet, resolve_device

EVAL_ROWS = 2048  # rows per forward pass when predicting or evaluating
IN_MEMORY_BYTES = 4 << 30  # a training split whose flux is larger than this is streamed in chunks
STREAM_ROWS = 65536  # rows per chunk when streaming (256 MiB of float32 at 4096 pixels)


class Regressor(nn.Module):
    """Backbone + scalers + one head per target: the whole predictor."""

    # buffers (registered in __init__; ridge_w and ridge_b with `residual` only)
    x_mean: torch.Tensor
    x_scale: torch.Tensor
    y_mean: torch.Tensor
    y_scale: torch.Tensor
    ridge_w: torch.Tensor
    ridge_b: torch.Tensor

    def __init__(self, backbone: nn.Module, n_pixels: int, targets: tuple[str, ...], residual: bool = False) -> None:
        super().__init__()
        self.targets = tuple(targets)
        self.backbone = backbone
        self.heads = nn.ModuleDict({t: nn.Linear(cast(int, backbone.n_features), 1) for t in self.targets})
        t = len(self.targets)
        self.register_buffer("x_mean", torch.zeros(n_pixels))
        self.register_buffer("x_scale", torch.ones(n_pixels))
        self.register_buffer("y_mean", torch.zeros(t))
        self.register_buffer("y_scale", torch.ones(t))
        self.residual = residual
        if residual:
            self.register_buffer("ridge_w", torch.zeros(n_pixels, t))
            self.register_buffer("ridge_b", torch.zeros(t))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Standardised outputs (rows, targets): what the loss sees."""
        return self.from_standardised((x - self.x_mean) / self.x_scale)

    def from_standardised(self, z: torch.Tensor) -> torch.Tensor:
        """`forward` of inputs already standardised (the trainer does a training set once, not
        every batch). The heads run in float32 even under autocast (bf16 would round a
        prediction to 3 significant digits)."""
        h = self.backbone(z)
        with torch.autocast(z.device.type, enabled=False):
            return torch.cat([self.heads[t](h.float()) for t in self.targets], dim=1)

    def base(self, x: torch.Tensor) -> torch.Tensor | float:
        """The prediction the net corrects: a ridge fit (in float32), or nothing."""
        if not self.residual:
            return 0.0
        with torch.autocast(x.device.type, enabled=False):
            return x.float() @ self.ridge_w + self.ridge_b

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions in the targets' units."""
        return self.base(x) + self.y_mean + self.y_scale * self(x).float()


class DeviceData:
    """A split's spectra as tensors on the device, served by batches of row positions."""

    def __init__(self, split, device: torch.device) -> None:
        from engine.data import noise

        self.split, self.device, self.n = split, device, len(split)
        self.y = _to_device(split.labels(), device)
        self.level, self.seed = float(split.noise_level), int(split.noise_seed)
        self._draw = getattr(noise, "standard_normal_torch", None)
        # A split pins its noise to one draw (`noise_epoch`: validation, or no `noise.redraw`), or not.
        self.redraw = _redraws(split)
        # keep the clean data and draw noise per batch: not when the net reads inputs made of the
        # noisy flux (windows, features), which the host computes after the noise
        if self.redraw and self._draw is not None and getattr(split, "inputs", None) is None:
            flux, error = split.clean()
            self.flux, self.error = _to_device(flux, device), _to_device(error, device)
            self.index = torch.as_tensor(split.index, device=device)
            self.x = None
        else:  # noise fixed (epoch 0), or redrawn per epoch on the host when the torch draw is missing
            self.x = _to_device(split.arrays(epoch=0)[0], device)
        self._epoch = 0
        self.scalers: Scalers | None = None  # set by `standardise`: then batches come standardised

    def standardise(self, net: Regressor) -> None:
        """Standardise the spectra and labels held in memory once, in place, with the net's
        scalers: the same elementwise operations the net would do on every batch, so the same
        bits, without two passes over every batch. Not with noise drawn per batch, nor with a
        ridge residual (its base prediction reads the raw spectra)."""
        if self.x is None or net.residual:
            return
        self.scalers = Scalers.of(net)
        self.scalers.apply(self.x, self.y)

    def start_epoch(self, epoch: int) -> None:
        if self.redraw and self.x is not None and epoch != self._epoch:
            self.x = _to_device(self.split.arrays(epoch=epoch)[0], self.device)
            if self.scalers is not None:
                self.scalers.apply(self.x)
        self._epoch = epoch

    def batch(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # index_select, not x[rows]: the same rows copied, several times faster on CPU
        if self.x is not None:
            return self.x.index_select(0, rows), self.y.index_select(0, rows)
        assert self._draw is not None  # x is None only when the noise is drawn per batch
        z = self._draw(self.seed, self._epoch, self.index[rows], self.flux.shape[1], self.device)
        return self.flux[rows] + self.level * self.error[rows] * z, self.y.index_select(0, rows)

    def chunks(self, rows: int = EVAL_ROWS):
        """(x, y) in order, `rows` at a time (for statistics and evaluation)."""
        for start in range(0, self.n, rows):
            if self.x is not None:  # views, no copy
                yield self.x[start : start + rows], self.y[start : start + rows]
            else:
                yield self.batch(torch.arange(start, min(start + rows, self.n), device=self.device))

    def steps(self, batch: int) -> int:
        return max(1, self.n // batch)  # the ragged last batch is dropped (BatchNorm needs > 1 row)

    def epoch_batches(self, batch: int, generator: torch.Generator):
        """The epoch's mini-batches: one permutation of every row."""
        order = torch.randperm(self.n, generator=generator, device=self.device)
        for step in range(self.steps(batch)):
            yield self.batch(order[step * batch : (step + 1) * batch])


class StreamData:
    """A training split larger than memory: chunks of `rows` spectra, one in memory at a time.

    Each epoch visits the chunks in a shuffled order and the rows of a chunk in a shuffled order;
    the next chunk is read (and its noise drawn) in a background thread while the device trains
    on this one, so memory is two chunks whatever the split's length. The noise of a row is the
    same as in memory (it is a function of seed, epoch and row), so only the batch order differs.
    """

    def __init__(self, split, device: torch.device, rows: int) -> None:
        self.split, self.device, self.n, self.rows = split, device, len(split), rows
        self.redraw = _redraws(split)
        self.spans = [(a, min(a + rows, self.n)) for a in range(0, self.n, rows)]
        self._epoch = 0
        self.scalers: Scalers | None = None

    def standardise(self, net: Regressor) -> None:
        """Chunks standardised as they are read (in the reading thread), as `DeviceData.standardise`."""
        if not net.residual:
            self.scalers = Scalers.of(net)

    def start_epoch(self, epoch: int) -> None:
        self._epoch = epoch

    def _load(self, span: tuple[int, int], epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
        from dataclasses import replace

        part = replace(self.split, index=self.split.index[span[0] : span[1]])
        x, y = part.arrays(epoch=epoch)
        x, y = _to_device(x, self.device), _to_device(y, self.device)
        if self.scalers is not None:
            self.scalers.apply(x, y)
        return x, y

    def steps(self, batch: int) -> int:
        return max(1, sum((b - a) // batch for a, b in self.spans))

    def epoch_batches(self, batch: int, generator: torch.Generator):
        from concurrent.futures import ThreadPoolExecutor

        epoch = self._epoch if self.redraw else 0
        order = torch.randperm(len(self.spans), generator=generator, device=generator.device).tolist()
        with ThreadPoolExecutor(1) as pool:
            coming = pool.submit(self._load, self.spans[order[0]], epoch)
            for k in range(len(order)):
                x, y = coming.result()
                if k + 1 < len(order):
                    coming = pool.submit(self._load, self.spans[order[k + 1]], epoch)
                perm = torch.randperm(len(x), generator=generator, device=generator.device).to(self.device)
                for step in range(len(x) // batch):
                    rows = perm[step * batch : (step + 1) * batch]
                    yield x.index_select(0, rows), y.index_select(0, rows)

    def chunks(self, rows: int = EVAL_ROWS):
        for block in self.split.blocks(max(rows, 4096)):
            x, y = _to_device(block.x, self.device), _to_device(block.y, self.device)
            if self.scalers is not None:
                x, y = self.scalers.applied(x, y)
            for start in range(0, len(x), rows):
                yield x[start : start + rows], y[start : start + rows]


class Scalers:
    """A net's input and target scalers, applied to data the way its forward and loss apply them
    (`(x - x_mean) / x_scale`, `(y - y_mean) / y_scale`), so standardised once or per batch the
    numbers are the same bits."""

    def __init__(
        self, x_mean: torch.Tensor, x_scale: torch.Tensor, y_mean: torch.Tensor, y_scale: torch.Tensor
    ) -> None:
        self.x_mean, self.x_scale, self.y_mean, self.y_scale = x_mean, x_scale, y_mean, y_scale

    @classmethod
    def of(cls, net: "Regressor") -> "Scalers":
        return cls(net.x_mean, net.x_scale, net.y_mean, net.y_scale)

    def copy(self) -> "Scalers":
        return Scalers(self.x_mean.clone(), self.x_scale.clone(), self.y_mean.clone(), self.y_scale.clone())

    @torch.no_grad()
    def copy_to(self, net: "Regressor") -> None:
        """Into a net's buffers: what `_fit_scalers` would set from the same data."""
        for mine, theirs in (
            (self.x_mean, net.x_mean),
            (self.x_scale, net.x_scale),
            (self.y_mean, net.y_mean),
            (self.y_scale, net.y_scale),
        ):
            theirs.copy_(mine)

    def apply(self, x: torch.Tensor, y: torch.Tensor | None = None) -> None:
        """In place (tensors this data owns)."""
        x.sub_(self.x_mean).div_(self.x_scale)
        if y is not None:
            y.sub_(self.y_mean).div_(self.y_scale)

    def applied(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """New tensors (for arrays a reader may hand out again)."""
        return (x - self.x_mean) / self.x_scale, (y - self.y_mean) / self.y_scale


#: The standardised training (and validation) spectra of the last net trained in this process,
#: with their scalers, by what made them: the seeds of a repeated trial train on the same rows
#: and noise, so they are read, noised and standardised once (the tensors a fresh read would
#: give, bit for bit; training only reads them). One entry: another split replaces it.
_HELD: dict[tuple, tuple] = {}


def _held_key(train, val, device: torch.device, cfg, net: "Regressor") -> tuple | None:
    """What held spectra must match to be reused; None when they are not held (noise redrawn
    per epoch, a streamed set, a ridge residual whose scalers depend on the ridge)."""
    if _redraws(train) or cfg.stream_rows is not None or net.residual:
        return None
    return (train.fingerprint(), val.fingerprint() if val is not None else None, str(device), train.n_pixels)


def _redraws(split) -> bool:
    """`Split.redraws`; a split of the user's own without it keeps one draw."""
    return bool(getattr(split, "redraws", False))


def training_data(split, device: torch.device, *, stream_rows: int | None):
    """In memory when the split's flux fits in IN_MEMORY_BYTES (or stream_rows says so), else streamed."""
    if stream_rows is None:
        fits = len(split) * split.n_pixels * 4 * (2 if _redraws(split) else 1) <= IN_MEMORY_BYTES
        stream_rows = None if fits else STREAM_ROWS
    if stream_rows is None or stream_rows >= len(split):
        return DeviceData(split, device)
    return StreamData(split, device, stream_rows)


def _to_device(array: np.ndarray, device: torch.device, rows: int = 8192) -> torch.Tensor:
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if device.type == "cpu":
        return tensor
    out = torch.empty(tensor.shape, dtype=tensor.dtype, device=device)
    for start in range(0, len(tensor), rows):  # through pinned chunks: fast, asynchronous, bounded
        out[start : start + rows].copy_(tensor[start : start + rows].pin_memory(), non_blocking=True)
    return out


class NetModel(Model):
    """A torch net trained by the loop below; subclasses set `type`, `Config` and `Backbone`."""

    Backbone: type  # nn.Module class: Backbone(config, n_pixels, wave) with .n_features

    net: Regressor

    def _build(self, n_pixels: int, wave: np.ndarray | None) -> Regressor:
        backbone = self.Backbone(self.config, n_pixels, wave)
        return Regressor(
            backbone, n_pixels, self.targets, residual=getattr(self.config, "residual_on", None) == "ridge"
        )

    # -- training ------------------------------------------------------------------------------

    def fit(self, train, val=None, *, log: Log = quiet, progress=None) -> None:
        self._check_split(train)
        if val is not None and len(val):
            self._check_split(val)
        else:
            val = None
        cfg, progress = self.train, progress or SILENT
        t0 = time.perf_counter()
        device = torch.device(resolve_device(cfg.device))
        amp = cfg.amp and device.type == "cuda"
        if device.type == "cuda":
            torch.set_float32_matmul_precision("high")
        torch.manual_seed(cfg.seed)

        net = self._build(train.n_pixels, train.wave).to(device)
        self.net = net
        key = _held_key(train, val, device, cfg, net)
        held = _HELD.get(key) if key is not None else None
        if held is not None:  # another seed of the same trial: the same spectra, noise and scalers
            data, vdata, scalers = held
            log(
                f"loading {len(train) + (len(val) if val is not None else 0):,} spectra into memory: held from the last "
                f"run (the same rows and noise, standardised)"
            )
            scalers.copy_to(net)
        else:
            if cfg.stream_rows is None:  # reading and noising the set in memory: seconds at 10k spectra, minutes at 1M
                log(
                    f"loading {len(train) + (len(val) if val is not None else 0):,} spectra into memory "
                    f"({(len(train) + (len(val) if val is not None else 0)) * train.n_pixels * 4 / 1e6:,.0f} MB on {device.type})"
                )
            data = training_data(train, device, stream_rows=cfg.stream_rows)
            vdata = training_data(val, device, stream_rows=cfg.stream_rows) if val is not None else None
            if isinstance(data, StreamData):
                log(
                    f"streaming the training set: {len(data.spans)} chunks of ≤ {data.rows} spectra, one in memory at a time"
                )
            if net.residual:
                self._fit_ridge(train, val, log)
            self._fit_scalers(data)
            data.standardise(net)
            if vdata is not None:
                vdata.standardise(net)
            _HELD.clear()
            if key is not None and isinstance(data, DeviceData) and data.scalers is not None:
                _HELD[key] = (data, vdata, Scalers.of(net).copy())

        n_targets = len(self.targets)
        log_vars = nn.Parameter(torch.zeros(n_targets, device=device)) if cfg.loss_weights == "uncertainty" else None
        weights = self._fixed_weights(device)
        optimizer = _adamw(net, log_vars, cfg)
        batch = min(cfg.batch_size, data.n)
        steps = data.steps(batch)
        schedule = _schedule(optimizer, cfg, steps)
        generator = torch.Generator(device=device)

        best: dict[str, Any] = {"loss": math.inf, "epoch": 0, "state": None}
        bad_epochs, epochs_run, seen = 0, 0, 0
        curves = Curves(self.targets, val)
        bar = progress.task(f"{self.type} epochs", total=cfg.epochs)
        for epoch in range(cfg.epochs):
            te = time.perf_counter()
            net.train()
            data.start_epoch(epoch)
            generator.manual_seed((cfg.seed * 1_000_003 + epoch) % 2**63)
            inner = progress.task(f"epoch {epoch + 1}/{cfg.epochs}", total=steps)
            batches = data.epoch_batches(batch, generator)
            train_per_target = self._train_epoch(
                net,
                batches,
                data.scalers is not None,
                device,
                steps,
                optimizer,
                schedule,
                weights,
                log_vars,
                amp,
                inner,
            )
            inner.done()
            seen += steps * batch
            if cfg.loss_weights == "inverse_variance":  # next epoch: 1 / this epoch's error variance
                weights = 1.0 / train_per_target.clamp_min(1e-8)
                weights = weights / weights.mean()
            train_loss = float(train_per_target.mean())
            val_per_target = self._evaluate(net, vdata, amp) if vdata is not None else None
            val_loss = float(val_per_target.mean()) if val_per_target is not None else None
            monitored = val_loss if val_loss is not None else train_loss
            if cfg.schedule == "plateau":
                schedule.step(monitored)
            epochs_run = epoch + 1
            curves.add(epochs_run, train_loss, optimizer.param_groups[0]["lr"], val_per_target, net.y_scale)
            extra = (
                {f"val_{t}": float(v) for t, v in zip(self.targets, val_per_target)}
                if val_per_target is not None and n_targets > 1
                else {}
            )
            log(
                epoch_line(
                    epoch + 1,
                    cfg.epochs,
                    train_loss,
                    val_loss,
                    optimizer.param_groups[0]["lr"],
                    time.perf_counter() - te,
                    **extra,
                )
            )
            bar.advance()
            if monitored < best["loss"] * (1 - 1e-6):
                best = {"loss": monitored, "epoch": epoch + 1, "state": _copy_state(net) if vdata is not None else None}
                bad_epochs = 0
            else:
                bad_epochs += 1
                if cfg.patience is not None and bad_epochs >= cfg.patience:
                    what = "val_loss" if vdata is not None else "train_loss"
                    log(
                        f"early stop after epoch {epoch + 1}: {what} has not improved for {cfg.patience} epochs (best epoch {best['epoch']})"
                    )
                    break
        bar.done()
        if best["state"] is not None:
            net.load_state_dict(best["state"])
        seconds = time.perf_counter() - t0
        if log_vars is not None:
            final_weights = 0.5 * torch.exp(-log_vars.detach())
        else:
            final_weights = weights / weights.sum() * n_targets
        self._info.update(
            {
                "device": device.type,
                "amp": amp,
                "n_params": sum(p.numel() for p in net.parameters()),
                "epochs_run": epochs_run,
                "best_epoch": best["epoch"],
                "best_loss": best["loss"],
                "stopped_early": epochs_run < cfg.epochs,
                "loss_weights": {t: float(w) for t, w in zip(self.targets, final_weights.cpu())},
                "seconds": round(seconds, 3),
                "train_samples_per_s": round(seen / max(seconds, 1e-9), 1),
                "curves": curves.as_dict(),
            }
        )

    def _train_epoch(
        self, net, batches, scaled, device, steps, optimizer, schedule, weights, log_vars, amp, task
    ) -> torch.Tensor:
        """One pass over the epoch's batches (already standardised when `scaled`); the mean
        per-target loss (standardised MSE), on the device."""
        total = torch.zeros(len(self.targets), device=device)
        for x, y in batches:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                out = net.from_standardised(x) if scaled else net(x)
            per_target = ((out.float() - (y if scaled else self._standardise(net, x, y))) ** 2).mean(dim=0)
            if log_vars is not None:  # Kendall et al.: ½·e^(−s)·L + ½·s per target
                loss = (0.5 * torch.exp(-log_vars) * per_target + 0.5 * log_vars).sum()
            else:
                loss = (weights * per_target).sum() / weights.sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if self.train.schedule == "cosine":
                schedule.step()
            total += per_target.detach()
            task.advance()
        return total / steps

    def _fit_ridge(self, train, val, log: Log) -> None:
        from .ridge import Ridge, RidgeConfig

        alpha = getattr(self.config, "ridge_alpha", None)
        ridge = Ridge(RidgeConfig(alpha=alpha), self.train, self.targets)
        ridge.fit(train, val, log=log)
        self.net.ridge_w.copy_(torch.as_tensor(ridge.coef, dtype=torch.float32))
        self.net.ridge_b.copy_(torch.as_tensor(ridge.intercept, dtype=torch.float32))
        self._info["ridge_alpha"] = ridge.info()["alpha"]

    @torch.no_grad()
    def _fit_scalers(self, data: DeviceData | StreamData) -> None:
        """Per-pixel mean/std of the training inputs and per-target mean/std of what the heads
        predict (y, or y minus the ridge prediction), in float64, a chunk at a time."""
        net, n = self.net, data.n
        # float64 tensors after the first chunk (0.0 + a tensor)
        sx: Any = 0.0
        sxx: Any = 0.0
        sy: Any = 0.0
        syy: Any = 0.0
        for x, y in data.chunks():
            x64 = x.double()
            r = (y - net.base(x)).double()
            sx, sxx = sx + x64.sum(0), sxx + (x64 * x64).sum(0)
            sy, syy = sy + r.sum(0), syy + (r * r).sum(0)
        for (mean, scale), (s, ss) in (((net.x_mean, net.x_scale), (sx, sxx)), ((net.y_mean, net.y_scale), (sy, syy))):
            m = s / n
            sd = (ss / n - m * m).clamp_min(0).sqrt()
            mean.copy_(m)
            scale.copy_(torch.where(sd > 1e-12 * sd.max().clamp_min(1e-300), sd, torch.ones_like(sd)))

    def _fixed_weights(self, device: torch.device) -> torch.Tensor:
        lw = self.train.loss_weights
        if isinstance(lw, dict):
            missing = [t for t in self.targets if t not in lw]
            if missing:
                raise ValueError(f"loss_weights has no weight for {', '.join(missing)}")
            return torch.tensor([float(lw[t]) for t in self.targets], device=device)
        return torch.ones(len(self.targets), device=device)

    @staticmethod
    def _standardise(net: Regressor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (y - net.base(x) - net.y_mean) / net.y_scale

    @torch.no_grad()
    def _evaluate(self, net: Regressor, data: DeviceData, amp: bool) -> torch.Tensor:
        """Per-target mean squared error in standardised units."""
        net.eval()
        total = torch.zeros(len(self.targets), device=data.device)
        scaled = data.scalers is not None
        for x, y in data.chunks():
            with torch.autocast(data.device.type, dtype=torch.bfloat16, enabled=amp):
                out = net.from_standardised(x) if scaled else net(x)
            total += ((out.float() - (y if scaled else self._standardise(net, x, y))) ** 2).sum(dim=0)
        return total / data.n

    # -- prediction ----------------------------------------------------------------------------

    @torch.no_grad()
    def predict(self, split) -> np.ndarray:
        net = self.net
        net.eval()
        device = next(net.parameters()).device
        amp = self.train.amp and device.type == "cuda"
        out = np.empty((len(split), len(self.targets)))
        for block in split.blocks():
            x = _to_device(block.x, device)
            for start in range(0, len(x), EVAL_ROWS):
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                    pred = net.predict(x[start : start + EVAL_ROWS])
                out[block.start + start : block.start + start + len(pred)] = pred.double().cpu().numpy()
        return out

    # -- checkpoint ----------------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        return {"n_pixels": int(self.net.x_mean.numel())}

    def _arrays(self) -> dict[str, np.ndarray]:
        return {f"net/{k}": v.detach().cpu().numpy() for k, v in self.net.state_dict().items()}

    def _restore(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.net = self._build(state["n_pixels"], None)
        weights = {k[4:]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("net/")}
        self.net.load_state_dict(weights)
        device = torch.device(resolve_device(self.train.device))
        self.net.to(device)


def _rounded(value: float) -> float:
    """Six significant digits, as the run record keeps numbers: a curve's last bits are noise."""
    return float(f"{value:.6g}")


class Curves:
    """Per-epoch training curves, kept in the model's info as plain JSON lists (`info["curves"]`):

        {"epoch": [1, 2, …], "train_loss": […], "lr": […],          # always
         "val_loss": […], "val_r2": {"log_g": […], …}}              # with a validation split

    `train_loss` and `val_loss` are what the log line and early stopping read: the mean over
    targets of the MSE of standardised targets (unweighted, whatever `loss_weights` says); `lr`
    is the learning rate at the end of the epoch. `val_r2` is R² per target on the validation
    split in the targets' own units, from the same per-target MSE the validation loss needs:
    a prediction's error is y_scale × its standardised error, so R² = 1 − y_scale²·MSE / Var(y)
    with Var(y) of the validation labels, worked out once (no second pass over the data).
    """

    def __init__(self, targets: tuple[str, ...], val) -> None:
        self.targets = targets
        self.epoch: list[int] = []
        self.train_loss: list[float] = []
        self.lr: list[float] = []
        self.val_loss: list[float] = []
        self.val_r2: dict[str, list[float | None]] = {t: [] for t in targets}
        self.variance = None
        if val is not None:
            y = np.asarray(val.labels(), dtype=np.float64)
            self.variance = y.var(axis=0)

    def add(
        self, epoch: int, train_loss: float, lr: float, val_per_target: torch.Tensor | None, y_scale: torch.Tensor
    ) -> None:
        self.epoch.append(int(epoch))
        self.train_loss.append(_rounded(train_loss))
        self.lr.append(_rounded(float(lr)))
        if val_per_target is None or self.variance is None:
            return
        mse = val_per_target.double().cpu().numpy()
        self.val_loss.append(_rounded(float(mse.mean())))
        scale = y_scale.double().cpu().numpy()
        for t, m, s, v in zip(self.targets, mse, scale, self.variance):
            self.val_r2[t].append(_rounded(1.0 - s * s * m / v) if v > 0 else None)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"epoch": self.epoch, "train_loss": self.train_loss, "lr": self.lr}
        if self.val_loss:
            out["val_loss"] = self.val_loss
            out["val_r2"] = self.val_r2
        return out


def _copy_state(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def _adamw(net: nn.Module, log_vars: nn.Parameter | None, cfg) -> torch.optim.Optimizer:
    """AdamW with weight decay on matrices and kernels only (nanoGPT's split).

    `foreach`: torch picks it by itself on cuda only; on CPU it does the very operations of the
    per-tensor loop (the same bits) with fewer temporaries, a third faster (6.5 vs 10 ms a step
    for the 2.2 M parameters of the default MLP, one thread). `fused` would be faster still but
    rounds differently, which would move every trained number."""
    params = [p for p in net.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2] + ([log_vars] if log_vars is not None else [])
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, foreach=True)


def _schedule(optimizer: torch.optim.Optimizer, cfg, steps_per_epoch: int):
    if cfg.schedule == "plateau":
        patience = max(1, (cfg.patience or 4) // 2)
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=patience)
    if cfg.schedule == "cosine":
        total = cfg.epochs * steps_per_epoch
        warmup = min(200, total // 20)

        def factor(step: int) -> float:  # linear warm-up, then cosine down to lr / 10
            if step < warmup:
                return (step + 1) / warmup
            progress = min(1.0, (step - warmup) / max(1, total - warmup))
            return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress))

        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    return None
