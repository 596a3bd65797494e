"""benchmarks/gpu_ablation.sh runs end to end on CPU at toy sizes (its GPU sizes are unmeasured here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_ablation_script_cpu_tiny_path(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable}
    res = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu_ablation.sh"), "--cpu", "--tiny", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    single = json.loads((tmp_path / "50m.json").read_text())
    assert single["device"] == "cpu" and single["tokens"] > 0 and single["steady_tokens_per_s"] > 0
    assert 0 < single["macro_bpb_heldout"] < 9 and 0 < single["mfu"] < 1
    (packed,) = json.loads((tmp_path / "packed.json").read_text())
    assert packed["k"] == 2 and packed["packed_tokens_per_s"] > 0 and packed["sequential_tokens_per_s"] > 0
    assert "speedup" in res.stdout


def test_gpu_ablation_script_refuses_unknown_options(tmp_path: Path) -> None:
    res = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu_ablation.sh"), "--bogus"], capture_output=True
    )
    assert res.returncode == 2
