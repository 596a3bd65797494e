"""A small GPT for data ablations, in the shape of nanoGPT's ``model.py`` (config + four small modules).

Modern choices that matter at proxy scale: RMSNorm (pre-norm), rotary positions, no biases, tied input and
output embeddings, and :func:`torch.nn.functional.scaled_dot_product_attention` with ``is_causal=True``
(flash / memory-efficient kernels on CUDA). Every mixture of an ablation gets exactly this model with the
same initial weights, so only the data differs.

Preset sizes follow the usual convention of counting all parameters with a GPT-2-size vocabulary
(50,304 padded entries); with the byte tokenizer (257 entries) the embedding is tiny and the totals smaller.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int = 257  # tokenizer vocabulary (logits beyond it are cut off)
    context: int = 256  # training / evaluation window in tokens
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    mlp_ratio: int = 4
    rope_theta: float = 10_000.0
    pad_vocab_to: int = 64  # embedding rows rounded up for tensor-core friendly shapes (nanoGPT: 50304)

    @property
    def padded_vocab(self) -> int:
        m = self.pad_vocab_to
        return (self.vocab_size + m - 1) // m * m

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head or self.head_dim % 2:
            raise ValueError(f"n_embd={self.n_embd} must split into {self.n_head} heads of even width")

    def to_dict(self) -> dict:
        return asdict(self)


#: name -> shape. ``context`` is part of the preset; ``vocab_size`` comes from the mixture's tokenizer.
PRESETS: dict[str, GPTConfig] = {
    # CPU smoke test: ~0.1M non-embedding parameters; trains a byte model in seconds.
    "smoke": GPTConfig(n_layer=2, n_head=4, n_embd=64, context=128),
    # ~13M parameters at a 50k vocabulary (3.5M non-embedding): the Olmix / DataDecide proxy scale.
    "14m": GPTConfig(n_layer=8, n_head=6, n_embd=192, context=512),
    # ~51M parameters at a 50k vocabulary (25M non-embedding).
    "50m": GPTConfig(n_layer=8, n_head=8, n_embd=512, context=1024),
    # ~15M parameters at a 50k vocabulary (5.3M non-embedding): the smallest proxy whose mixture rankings
    # are known to transfer — Olmix (2026) reports rank correlation ρ > 0.89 with 1B targets above ~15M
    # parameters, against ρ = 0.73 at 1M. Use it (or 30m) when the ranking must hold at scale.
    "15m": GPTConfig(n_layer=12, n_head=6, n_embd=192, context=512),
    # ~31M parameters at a 50k vocabulary (14.8M non-embedding): the same transfer regime (Olmix, ρ > 0.89)
    # with margin; twice the cost of 15m per token.
    "30m": GPTConfig(n_layer=12, n_head=5, n_embd=320, context=1024),
}


def preset(name: str, vocab_size: int, **overrides) -> GPTConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown model preset {name!r}; use one of: {', '.join(PRESETS)}")
    return replace(PRESETS[name], vocab_size=vocab_size, **overrides)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight


def rotary_tables(head_dim: int, length: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin tables of shape (length, head_dim/2), kept in float32."""
    inv = 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    ang = torch.outer(torch.arange(length, dtype=torch.float32), inv)
    return ang.cos(), ang.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (first half, second half) of each head by position-dependent angles; x: (B, H, T, D)."""
    d = x.shape[-1] // 2
    x1, x2 = x[..., :d].float(), x[..., d:].float()
    out = torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)
    return out.type_as(x)


class ResidualProjection(nn.Linear):
    """A linear layer whose output is added to the residual stream (attention and MLP outputs): GPT-2
    scales its init by 1/sqrt(2 · n_layer) so the stream's variance does not grow with depth."""


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.n_head = cfg.n_head
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=False)
        self.proj = ResidualProjection(cfg.n_embd, cfg.n_embd, bias=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.n_head, C // self.n_head).permute(2, 0, 3, 1, 4)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.up = nn.Linear(cfg.n_embd, cfg.mlp_ratio * cfg.n_embd, bias=False)
        self.down = ResidualProjection(cfg.mlp_ratio * cfg.n_embd, cfg.n_embd, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(F.gelu(self.up(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.norm1 = RMSNorm(cfg.n_embd)
        self.attn = CausalSelfAttention(cfg)
        self.norm2 = RMSNorm(cfg.n_embd)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), cos, sin)
        return x + self.mlp(self.norm2(x))


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.padded_vocab, cfg.n_embd)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.norm_f = RMSNorm(cfg.n_embd)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.padded_vocab, bias=False)
        self.lm_head.weight = self.wte.weight  # tied embeddings
        cos, sin = rotary_tables(cfg.head_dim, cfg.context, cfg.rope_theta)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """GPT-2 init (see :func:`init_weights`). Seed before calling."""
        init_weights(self, self.cfg.n_layer)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits (B, T, vocab_size) for token ids (B, T), T <= context."""
        T = idx.shape[1]
        if T > self.cfg.context:
            raise ValueError(f"sequence of {T} tokens is longer than the model context {self.cfg.context}")
        cos, sin = self.rope_cos[:T], self.rope_sin[:T]
        x = self.wte(idx)
        for block in self.blocks:
            x = block(x, cos, sin)
        logits = self.lm_head(self.norm_f(x))
        return logits[..., : self.cfg.vocab_size]

    def num_params(self, non_embedding: bool = False) -> int:
        n = sum(p.numel() for p in self.parameters())  # tied weights are counted once
        return n - self.wte.weight.numel() if non_embedding else n

    def flops_per_token(self) -> float:
        """Training FLOPs per token (forward + backward), PaLM appendix B / nanoGPT: 6N + 12·L·C·T."""
        c = self.cfg
        return 6 * self.num_params() + 12 * c.n_layer * c.n_embd * c.context

    def estimate_mfu(self, tokens_per_second: float, peak_flops: float) -> float:
        """Model FLOPs utilisation: achieved training FLOP/s over the device's peak."""
        return self.flops_per_token() * tokens_per_second / peak_flops


@torch.no_grad()
def init_weights(root: nn.Module, n_layer: int, std: float = 0.02) -> None:
    """GPT-2 init chosen by module type, in module order: RMSNorm gains 1, :class:`ResidualProjection`
    N(0, std/sqrt(2·n_layer)), other linear layers and embeddings N(0, std). A tied weight is drawn once."""
    seen: set[int] = set()
    for m in root.modules():
        for p in m.parameters(recurse=False):
            if id(p) in seen:
                continue
            seen.add(id(p))
            if isinstance(m, RMSNorm):
                p.fill_(1.0)
            elif isinstance(m, ResidualProjection):
                p.normal_(0.0, std / math.sqrt(2 * n_layer))
            elif isinstance(m, nn.Linear | nn.Embedding):
                p.normal_(0.0, std)
            else:
                raise TypeError(f"init_weights: no init rule for parameters of {type(m).__name__}")


def expected_params(cfg: GPTConfig) -> int:
    """Closed-form parameter count, used by tests and docs: 12·L·C² + (2L + 1)·C + V_pad·C."""
    c = cfg.n_embd
    per_layer = (3 + 1) * c * c + 2 * cfg.mlp_ratio * c * c + 2 * c
    return cfg.n_layer * per_layer + c + cfg.padded_vocab * c
