"""The device a proxy trains on: which one, how it is configured, and its peak FLOP/s (for MFU).

Peaks are dense bf16 tensor-core figures (not the 2:4-sparse marketing ones); on a CPU the peak is
estimated from ``/proc/cpuinfo`` (vector width × clock × threads), so an MFU there is only indicative.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

#: Dense bf16 tensor-core peaks, FLOP/s.
GPU_PEAK_BF16 = {
    "H200": 989e12,
    "H100": 989e12,  # SXM; the PCIe card is lower, matched first below
    "A100": 312e12,
    "L40S": 362e12,
    "A10G": 125e12,
    "L4": 121e12,
    "RTX 4090": 165e12,
    "RTX 3090": 71e12,
}
GPU_PEAK_SPECIAL = {"H100 PCIe": 756e12, "H100 NVL": 835e12}
UNKNOWN_GPU_PEAK = 100e12  # a round guess: MFU on an unlisted GPU is only indicative


def select_device(pref: str = "auto") -> torch.device:
    if pref != "auto":
        return torch.device(pref)
    if torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def gpu_peak_flops(name: str) -> float:
    """Peak bf16 FLOP/s of a GPU from its device name (special variants first, then whole-word models)."""
    for key, val in GPU_PEAK_SPECIAL.items():
        if key in name:
            return val
    for key, val in GPU_PEAK_BF16.items():
        if re.search(rf"\b{re.escape(key)}\b", name):
            return val
    return UNKNOWN_GPU_PEAK


def peak_flops(device: torch.device) -> float:
    """Peak FLOP/s used for MFU: dense bf16 on known GPUs, fp32 FMA throughput estimate on CPUs."""
    if device.type == "cuda":
        return gpu_peak_flops(torch.cuda.get_device_name(device))
    return cpu_peak_flops(torch.get_num_threads())


def cpu_peak_flops(threads: int, cpuinfo: Path = Path("/proc/cpuinfo")) -> float:
    """threads × clock × FLOPs/cycle (2 FMA units × vector lanes × 2): AVX-512 64, AVX2 32, else 8."""
    flags = ""
    ghz = 2.5
    try:
        info = cpuinfo.read_text()
        m = re.search(r"^flags\s*:(.*)$", info, re.M)
        flags = m.group(1) if m else ""
        m = re.search(r"^cpu MHz\s*:\s*([\d.]+)", info, re.M)
        ghz = float(m.group(1)) / 1000 if m else ghz
    except OSError:
        pass
    per_cycle = 64 if "avx512f" in flags else 32 if "avx2" in flags else 8
    return threads * ghz * 1e9 * per_cycle


def configure_device(device: torch.device, threads: int) -> None:
    """TF32 matmuls on CUDA; a fixed CPU thread count elsewhere (same seed -> same numbers)."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.set_float32_matmul_precision("high")
    elif device.type == "cpu":
        from corpuskit.environment import usable_cpus

        torch.set_num_threads(threads or min(4, usable_cpus()))
