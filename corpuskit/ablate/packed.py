"""Train K proxies of one shape at once in one process: stacked weights, one vmapped step for all of them.

Each member is what a separate :meth:`Trainer.train <corpuskit.ablate.train.Trainer.train>` would be: its own
mixture, batch seed, init weights and :class:`TrainConfig` (lr, schedule, weight decay, betas, clipping and
divergence threshold may differ per member), its own gradient-norm clip, and its own divergence check — a
member that diverges is stopped, reported with its curve, and dropped from the stack; the others go on.

Why ``torch.func.stack_module_state`` + ``functional_call`` + ``vmap`` rather than a hand-written batched
model: the network stays :class:`~corpuskit.ablate.model.GPT` (one definition to trust, init included),
while vmap turns every ``nn.Linear`` into one batched matmul over the K members and folds K into the
attention kernel's batch dimension. Small proxies are bound by per-operation overhead (kernel launches on
a GPU, dispatch on a CPU), which is then paid once per step instead of K times.

AdamW is written out here, element for element the update of ``torch.optim.AdamW`` (PyTorch's single-tensor
path), because its hyperparameters are per member (a (K,) tensor broadcast over each stacked weight) and
because dropping a diverged member means slicing the optimizer state together with the weights.

Timing: the members share one wall clock, so a member's ``seconds`` is the pack's time until it stopped and
its ``tokens_per_second`` its own tokens over that; the pack's throughput is the sum over members.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call, vmap

from corpuskit.ablate.hardware import configure_device, peak_flops, select_device
from corpuskit.ablate.model import GPT, GPTConfig
from corpuskit.ablate.packing import check_packable
from corpuskit.ablate.train import (
    TrainConfig,
    TrainingDiverged,
    TrainResult,
    _check_divergence,
    batch_rng,
    check_vocab,
    initial_state,
    lr_at,
    write_curve,
)
from corpuskit.mix import Mixture
from corpuskit.progress import Meter

ADAM_EPS = 1e-8  # torch.optim.AdamW's default, as the Trainer uses it


# PyTorch has vmap rules for the CUDA attention kernels but not (yet) for the CPU flash kernel, so on CPU
# attention runs once per member (a loop inside vmap; results are identical). Said once here, not per step.
warnings.filterwarnings(
    "ignore", message=r".*batching rule for aten::_scaled_dot_product_flash_attention_for_cpu.*"
)


@dataclass
class PackedResult:
    """One member's outcome: its TrainResult (curve up to where it stopped) and final weights (CPU)."""

    result: TrainResult
    weights: dict[str, torch.Tensor]  # GPT parameter name -> tensor (tied embeddings listed once)
    diverged: TrainingDiverged | None = None

    @property
    def ok(self) -> bool:
        return self.diverged is None

    def load_into(self, model: GPT) -> GPT:
        """Copy this member's weights into ``model`` (same shape), e.g. to evaluate it."""
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.copy_(self.weights[name].to(p.device))
        return model


class PackedTrainer:
    """Owns the template model and the (compiled) vmapped loss for many packs of one shape."""

    def __init__(self, model_cfg: GPTConfig, cfg: TrainConfig):
        self.model_cfg = model_cfg
        self.device = select_device(cfg.device)
        configure_device(self.device, cfg.threads)
        self.cuda = self.device.type == "cuda"
        self.template = GPT(model_cfg).to(self.device).requires_grad_(False)  # structure + rotary tables
        self.names = [n for n, _ in self.template.named_parameters()]

        def loss(params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.cuda):
                logits = functional_call(self.template, params, (x,))
            return F.cross_entropy(logits.float().flatten(0, 1), y.flatten())

        batched = vmap(loss)
        use_compile = cfg.compile == "on" or (cfg.compile == "auto" and self.cuda)
        self.loss: Callable[..., torch.Tensor] = torch.compile(batched) if use_compile else batched
        self._peak = peak_flops(self.device)

    def train(
        self,
        cfgs: Sequence[TrainConfig],
        mixtures: Sequence[Mixture],
        *,
        seeds: Sequence[int],
        init_seeds: Sequence[int],
        curve_paths: Sequence[Path | None] | None = None,
        meter: Meter | None = None,
    ) -> list[PackedResult]:
        """Train member i from ``init_seeds[i]`` on ``mixtures[i]`` drawn with ``seeds[i]`` under ``cfgs[i]``.

        ``meter`` (the caller's progress counter) advances by one per member and optimizer step, as K
        :class:`Trainer` runs would advance it.
        """
        k = len(cfgs)
        if not (len(mixtures) == len(seeds) == len(init_seeds) == k):
            raise ValueError("cfgs, mixtures, seeds and init_seeds must have one entry per member")
        check_packable(cfgs)
        for m in mixtures:
            check_vocab(m, self.model_cfg)
        run = _Pack(self, list(cfgs), list(mixtures), list(seeds), list(init_seeds))
        out = run.loop(meter or Meter())
        for res, path in zip(out, curve_paths or [None] * k, strict=True):
            if path is not None:
                write_curve(path, res.result.curve)
        return out


def train_packed(
    model_cfg: GPTConfig, train_cfgs: Sequence[TrainConfig], mixtures: Sequence[Mixture], **members: Any
) -> list[PackedResult]:
    """One pack, start to finish; ``members``: the keywords of :meth:`PackedTrainer.train` (``seeds``,
    ``init_seeds``, ``curve_paths``, ``meter``). A :class:`PackedTrainer` reuses its compiled step."""
    return PackedTrainer(model_cfg, train_cfgs[0]).train(train_cfgs, mixtures, **members)


class _Pack:
    """The state of one packed run: stacked weights and AdamW moments of the members still training."""

    def __init__(self, tr: PackedTrainer, cfgs, mixtures, seeds, init_seeds):
        self.tr, self.cfgs, self.mixtures = tr, cfgs, mixtures
        self.rngs = [batch_rng(s) for s in seeds]
        self.total = cfgs[0].steps(tr.model_cfg.context)
        self.alive = list(range(len(cfgs)))  # stack row -> member index
        inits = [initial_state(tr.model_cfg, s) for s in init_seeds]
        dev = tr.device
        self.params = {n: torch.stack([st[n] for st in inits]).to(dev).requires_grad_(True) for n in tr.names}
        self.exp_avg = {n: torch.zeros_like(p) for n, p in self.params.items()}
        self.exp_avg_sq = {n: torch.zeros_like(p) for n, p in self.params.items()}
        self.curves: list[list[dict[str, float]]] = [[] for _ in cfgs]
        self.first: list[float | None] = [None] * len(cfgs)
        self.results: dict[int, PackedResult] = {}
        self._hyper()

    def _hyper(self) -> None:
        """Per-member hyperparameters of the rows still alive, as (K,) tensors."""

        def col(f: str) -> torch.Tensor:
            return torch.tensor([getattr(self.cfgs[i], f) for i in self.alive], dtype=torch.float32)

        self.wd, self.b1, self.b2, self.clip = (
            col(f).to(self.tr.device) for f in ("weight_decay", "beta1", "beta2", "grad_clip")
        )

    def _sample(self, members: list[int]) -> dict[int, np.ndarray]:
        b, ctx = self.cfgs[0].batch_size, self.tr.model_cfg.context
        return {i: self.mixtures[i].sample_batch(self.rngs[i], b, ctx) for i in members}

    def loop(self, meter: Meter) -> list[PackedResult]:
        cfg0, dev = self.cfgs[0], self.tr.device
        micro = cfg0.batch_size // cfg0.grad_accum
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(self._sample, list(self.alive))
            for step in range(self.total):
                got = pending.result()
                if step + 1 < self.total:
                    pending = pool.submit(self._sample, list(self.alive))
                batch = torch.from_numpy(np.stack([got[i] for i in self.alive]))
                if self.tr.cuda:
                    batch = batch.pin_memory().to(dev, non_blocking=True)
                x, y = batch[..., :-1], batch[..., 1:]
                lrs = [lr_at(step, self.total, self.cfgs[i]) for i in self.alive]
                loss_sum = torch.zeros(len(self.alive), device=dev)
                for a in range(cfg0.grad_accum):
                    part = slice(a * micro, (a + 1) * micro)
                    losses = self.tr.loss(self.params, x[:, part], y[:, part]) / cfg0.grad_accum
                    losses.sum().backward()
                    loss_sum += losses.detach()
                gnorm = self._clip()
                self._adamw(step + 1, lrs)
                meter.advance(len(self.alive))
                self._log(step, lrs, loss_sum, gnorm, time.perf_counter() - t0)
                if not self.alive:
                    break
        if self.tr.cuda:
            torch.cuda.synchronize(dev)
        seconds = time.perf_counter() - t0
        for row in range(len(self.alive)):
            self._finish(row, self.total, seconds, None)
        return [self.results[i] for i in range(len(self.cfgs))]

    @torch.no_grad()
    def _clip(self) -> torch.Tensor:
        """``clip_grad_norm_`` per member: each member's grads scaled by its own norm; returns the norms."""
        sq = sum(p.grad.float().pow(2).flatten(1).sum(1) for p in self.params.values())
        norm = sq.sqrt()
        coef = (self.clip / (norm + 1e-6)).clamp(max=1.0)
        for p in self.params.values():
            p.grad.mul_(coef.view(-1, *[1] * (p.dim() - 1)).to(p.grad.dtype))
        return norm

    @torch.no_grad()
    def _adamw(self, step: int, lrs: list[float]) -> None:
        """torch.optim.AdamW's update with (K,) hyperparameters; weight decay on matrices only."""
        lr = torch.tensor(lrs, dtype=torch.float32, device=self.tr.device)
        bc1 = 1 - self.b1**step
        bc2_sqrt = (1 - self.b2**step).sqrt()
        for n, p in self.params.items():
            shape = (-1, *[1] * (p.dim() - 1))

            def v(t: torch.Tensor, shape=shape) -> torch.Tensor:
                return t.view(shape)

            g, m, s = p.grad, self.exp_avg[n], self.exp_avg_sq[n]
            if p.dim() >= 3:  # a matrix of the unstacked model (Trainer: p.dim() >= 2 decays)
                p.mul_(1 - v(lr * self.wd))
            m.lerp_(g, 1 - v(self.b1))
            s.mul_(v(self.b2)).addcmul_(g, g * (1 - v(self.b2)))
            denom = (s.sqrt() / v(bc2_sqrt)).add_(ADAM_EPS)
            p.sub_(v(lr / bc1) * m / denom)
            p.grad = None

    def _log(self, step, lrs, loss_sum, gnorm, elapsed) -> None:
        rows = [
            r
            for r, i in enumerate(self.alive)
            if step % self.cfgs[i].log_every == 0 or step == self.total - 1 or self.first[i] is None
        ]
        if not rows:
            return
        losses, norms = loss_sum.tolist(), gnorm.tolist()  # one device sync for the whole pack
        tokens = (step + 1) * self.cfgs[0].batch_size * self.tr.model_cfg.context
        stopped = []
        for r in rows:
            i = self.alive[r]
            cfg = self.cfgs[i]
            row = {"step": step, "tokens": tokens, "loss": losses[r], "lr": lrs[r]}
            self.curves[i].append({**row, "grad_norm": norms[r], "seconds": elapsed})
            try:
                warm = cfg.warmup(self.total)
                _check_divergence(losses[r], step, lrs[r], self.first[i], warm, cfg.divergence_factor)
            except TrainingDiverged as e:
                e.curve = self.curves[i]  # as Trainer.train: a failed run keeps its evidence
                stopped.append((r, e))
            self.first[i] = losses[r] if self.first[i] is None else self.first[i]
        for r, e in reversed(stopped):  # highest row first, so lower row numbers stay valid
            self._finish(r, step + 1, elapsed, e)
            self._drop(r)

    def _finish(self, row: int, steps: int, seconds: float, err: TrainingDiverged | None) -> None:
        i = self.alive[row]
        tokens = steps * self.cfgs[i].batch_size * self.tr.model_cfg.context
        tps = tokens / seconds if seconds > 0 else 0.0
        curve = self.curves[i]
        res = TrainResult(
            steps=steps,
            tokens=tokens,
            seconds=seconds,
            tokens_per_second=tps,
            mfu=self.tr.template.estimate_mfu(tps, self.tr._peak) if self.tr._peak else None,
            final_loss=curve[-1]["loss"] if curve else float("nan"),
            curve=curve,
        )
        weights = {n: p[row].detach().to("cpu", copy=True) for n, p in self.params.items()}
        self.results[i] = PackedResult(res, weights, err)

    def _drop(self, row: int) -> None:
        """Remove a stopped member's row from the weights, the AdamW moments and the hyperparameters."""
        keep = torch.tensor([r for r in range(len(self.alive)) if r != row], device=self.tr.device)
        for d in (self.exp_avg, self.exp_avg_sq):
            for n in d:
                d[n] = d[n].index_select(0, keep)
        self.params = {
            n: p.detach().index_select(0, keep).requires_grad_(True) for n, p in self.params.items()
        }
        del self.alive[row]
        self._hyper()
