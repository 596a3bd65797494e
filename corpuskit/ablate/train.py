"""Train one proxy model on one mixture: the same model, init, optimizer and schedule for every mixture.

On CUDA: bf16 autocast, TF32 matmuls, fused AdamW and ``torch.compile`` — compiled once per model shape
and reused across mixtures (a :class:`Trainer` keeps the compiled module and reloads the initial weights).
On CPU: float32 and a fixed thread count, so the same seed gives the same numbers.
Batches are random windows drawn from the memory-mapped mixture shards, prefetched on a thread.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from corpuskit.ablate.hardware import configure_device, peak_flops, select_device
from corpuskit.ablate.model import GPT, GPTConfig
from corpuskit.mix import Mixture
from corpuskit.progress import Meter


class TrainingDiverged(RuntimeError):
    """Loss became NaN/inf or blew up: the message says when and what to try; ``curve`` is the loss curve
    up to that step (it is also written to the run's curve file), so a failed run keeps its evidence."""

    def __init__(self, message: str, *, step: int, lr: float, loss: float):
        super().__init__(message)
        self.step, self.lr, self.loss = step, lr, loss
        self.curve: list[dict[str, float]] = []


@dataclass(frozen=True)
class TrainConfig:
    tokens: int = 2_000_000  # training budget; steps = tokens // (batch_size * context)
    batch_size: int = 16  # sequences per optimizer step
    grad_accum: int = 1  # micro-batches per step (batch_size must divide evenly)
    lr: float = 3e-3
    min_lr_ratio: float = 0.1  # cosine decays to lr * min_lr_ratio
    warmup_fraction: float = 0.05
    warmup_min_steps: int = 0  # warmup = max(this, fraction × steps): short runs still warm up
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    threads: int = 0  # CPU threads; 0 = min(4, cores)
    compile: str = "auto"  # auto (CUDA only) | on | off
    log_every: int = 10
    divergence_factor: float = 1.5  # after warmup, loss > factor * initial loss counts as divergence

    def steps(self, context: int) -> int:
        return max(1, self.tokens // (self.batch_size * context))

    def warmup(self, total: int) -> int:
        """Warmup steps: the fraction of the run, at least ``warmup_min_steps``, at most the run."""
        return min(total, max(1, self.warmup_min_steps, int(self.warmup_fraction * total)))


@dataclass
class TrainResult:
    steps: int
    tokens: int
    seconds: float
    tokens_per_second: float
    mfu: float | None
    final_loss: float
    curve: list[dict[str, float]] = field(default_factory=list)


def batch_rng(seed: int) -> np.random.Generator:
    """The generator a run with ``seed`` draws its batches from (shared with packed training)."""
    return np.random.default_rng([seed, 0xC0FFEE])


def check_vocab(mixture: Mixture, model_cfg: GPTConfig) -> None:
    if mixture.vocab_size != model_cfg.vocab_size:
        raise ValueError(
            f"{mixture.path}: tokenizer vocabulary {mixture.vocab_size} differs from the model's "
            f"{model_cfg.vocab_size}; every mixture of an ablation must use one tokenizer"
        )


def lr_at(step: int, total: int, cfg: TrainConfig) -> float:
    """Linear warmup then cosine decay to ``lr * min_lr_ratio`` (nanoGPT's schedule)."""
    warmup = cfg.warmup(total)
    if step < warmup:
        return cfg.lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    min_lr = cfg.lr * cfg.min_lr_ratio
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (cfg.lr - min_lr)


def initial_state(model_cfg: GPTConfig, init_seed: int) -> dict[str, torch.Tensor]:
    """The initial weights for ``init_seed``, built on CPU so they are identical on every device."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init_seed)
        model = GPT(model_cfg)
    return {k: v.clone() for k, v in model.state_dict().items()}


class Trainer:
    """Owns one model (and its compiled version) for a whole ablation; each run reloads the init weights."""

    def __init__(self, model_cfg: GPTConfig, cfg: TrainConfig):
        self.model_cfg = model_cfg
        self.cfg = cfg
        if cfg.batch_size % cfg.grad_accum:
            raise ValueError(f"batch_size={cfg.batch_size} is not divisible by grad_accum={cfg.grad_accum}")
        self.device = select_device(cfg.device)
        configure_device(self.device, cfg.threads)
        self.cuda = self.device.type == "cuda"
        self.model = GPT(model_cfg).to(self.device)
        use_compile = cfg.compile == "on" or (cfg.compile == "auto" and self.cuda)
        self.forward: Callable[[torch.Tensor], torch.Tensor] = (
            torch.compile(self.model) if use_compile else self.model
        )
        self._peak = peak_flops(self.device)

    def reset(self, init_seed: int) -> None:
        """Load the initial weights for ``init_seed`` in place, so the compiled graph stays valid."""
        self.model.load_state_dict(initial_state(self.model_cfg, init_seed))

    def _optimizer(self) -> torch.optim.AdamW:
        decay = [p for p in self.model.parameters() if p.dim() >= 2]
        no_decay = [p for p in self.model.parameters() if p.dim() < 2]
        groups = [
            {"params": decay, "weight_decay": self.cfg.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        extra = {"fused": True} if self.cuda else {"foreach": False}
        return torch.optim.AdamW(groups, lr=self.cfg.lr, betas=(self.cfg.beta1, self.cfg.beta2), **extra)

    def _to_device(self, batch: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        t = torch.from_numpy(batch)
        if self.cuda:
            t = t.pin_memory().to(self.device, non_blocking=True)
        return t[:, :-1], t[:, 1:]

    def train(
        self,
        mixture: Mixture,
        *,
        seed: int,
        init_seed: int,
        curve_path: Path | None = None,
        meter: Meter | None = None,
    ) -> TrainResult:
        """Train from the ``init_seed`` weights on batches drawn with ``seed``; returns the loss curve.
        ``meter`` (the caller's progress counter) advances by one per optimizer step.

        Raises :class:`TrainingDiverged` on a NaN/inf loss or a loss that blows up after warmup; the curve
        up to that step is written to ``curve_path`` first.
        """
        curve: list[dict[str, float]] = []
        try:
            return self._train(mixture, seed, init_seed, curve, meter or Meter(), curve_path)
        except TrainingDiverged as e:
            e.curve = curve
            if curve_path is not None:
                write_curve(curve_path, curve)
            raise

    def _train(
        self,
        mixture: Mixture,
        seed: int,
        init_seed: int,
        curve: list[dict[str, float]],
        meter: Meter,
        curve_path: Path | None,
    ) -> TrainResult:
        cfg, ctx = self.cfg, self.model_cfg.context
        check_vocab(mixture, self.model_cfg)
        self.reset(init_seed)
        self.model.train()
        opt = self._optimizer()
        total = cfg.steps(ctx)
        micro = cfg.batch_size // cfg.grad_accum
        rng = batch_rng(seed)
        first_loss: float | None = None
        warmup = cfg.warmup(total)
        t0 = time.perf_counter()
        tokens_done = 0
        loss_val = float("nan")
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(mixture.sample_batch, rng, cfg.batch_size, ctx)
            for step in range(total):
                batch = pending.result()
                if step + 1 < total:
                    pending = pool.submit(mixture.sample_batch, rng, cfg.batch_size, ctx)
                lr = lr_at(step, total, cfg)
                for g in opt.param_groups:
                    g["lr"] = lr
                x, y = self._to_device(batch)
                loss_sum = torch.zeros((), device=self.device)
                for k in range(cfg.grad_accum):
                    xs, ys = x[k * micro : (k + 1) * micro], y[k * micro : (k + 1) * micro]
                    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.cuda):
                        logits = self.forward(xs)
                    loss = F.cross_entropy(logits.float().flatten(0, 1), ys.flatten()) / cfg.grad_accum
                    loss.backward()
                    loss_sum += loss.detach()
                gnorm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
                opt.step()
                opt.zero_grad(set_to_none=True)
                tokens_done += cfg.batch_size * ctx
                last = step == total - 1
                if step % cfg.log_every == 0 or last or first_loss is None:
                    loss_val = float(loss_sum)  # syncs the device: only on logging steps
                    curve.append(
                        {
                            "step": step,
                            "tokens": tokens_done,
                            "loss": loss_val,
                            "lr": lr,
                            "grad_norm": float(gnorm),
                            "seconds": time.perf_counter() - t0,
                        }
                    )
                    _check_divergence(loss_val, step, lr, first_loss, warmup, cfg.divergence_factor)
                    first_loss = loss_val if first_loss is None else first_loss
                meter.advance(1)
        if self.cuda:
            torch.cuda.synchronize(self.device)
        seconds = time.perf_counter() - t0
        tps = tokens_done / seconds if seconds > 0 else 0.0
        if curve_path is not None:
            write_curve(curve_path, curve)
        self.model.eval()
        return TrainResult(
            steps=total,
            tokens=tokens_done,
            seconds=seconds,
            tokens_per_second=tps,
            mfu=self.model.estimate_mfu(tps, self._peak) if self._peak else None,
            final_loss=loss_val,
            curve=curve,
        )


def _check_divergence(
    loss: float, step: int, lr: float, first: float | None, warmup: int, factor: float
) -> None:
    if not math.isfinite(loss):
        raise TrainingDiverged(
            f"training loss became {loss} at step {step} (lr={lr:.2e}); lower training.lr, raise "
            "training.warmup_min_steps or check the mixture for corrupt tokens",
            step=step, lr=lr, loss=loss,
        )  # fmt: skip
    if first is not None and step >= warmup and loss > factor * first:
        raise TrainingDiverged(
            f"training diverged at step {step}: loss {loss:.3f} > {factor} × initial loss {first:.3f} "
            f"(lr={lr:.2e}); lower training.lr or raise training.warmup_min_steps",
            step=step, lr=lr, loss=loss,
        )  # fmt: skip


def write_curve(path: Path, curve: list[dict[str, float]]) -> None:
    """Loss curve as CSV (step, tokens, loss, lr, grad_norm, seconds), written atomically."""
    from corpuskit.store.atomic import atomic_write_bytes

    cols = ["step", "tokens", "loss", "lr", "grad_norm", "seconds"]
    lines = [",".join(cols)]
    for row in curve:
        lines.append(
            ",".join(repr(float(row[c])) if c not in ("step", "tokens") else str(row[c]) for c in cols)
        )
    atomic_write_bytes(Path(path), ("\n".join(lines) + "\n").encode())


def read_curve(path: Path) -> list[dict[str, float]]:
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]
