"""Peak FLOP/s for MFU: GPU names matched to the right card, CPU peaks from /proc/cpuinfo flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpuskit.ablate.hardware import UNKNOWN_GPU_PEAK, cpu_peak_flops, gpu_peak_flops


@pytest.mark.parametrize(
    ("name", "peak"),
    [
        ("NVIDIA H100 80GB HBM3", 989e12),
        ("NVIDIA H100 PCIe", 756e12),
        ("NVIDIA H200", 989e12),
        ("NVIDIA A100-SXM4-80GB", 312e12),
        ("NVIDIA L4", 121e12),
        ("NVIDIA L40S", 362e12),
        ("Some Future GPU", UNKNOWN_GPU_PEAK),
    ],
)
def test_gpu_peaks_by_name(name: str, peak: float) -> None:
    assert gpu_peak_flops(name) == peak


def test_cpu_peak_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\ncpu MHz\t\t: 2000.000\nflags\t\t: fpu sse avx2 fma\n")
    assert cpu_peak_flops(4, info) == pytest.approx(4 * 2.0e9 * 32)
    info.write_text("cpu MHz\t\t: 3000.0\nflags\t\t: avx512f avx2\n")
    assert cpu_peak_flops(1, info) == pytest.approx(3.0e9 * 64)
    assert cpu_peak_flops(2, tmp_path / "missing") == pytest.approx(2 * 2.5e9 * 8)
