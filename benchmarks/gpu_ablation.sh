#!/usr/bin/env bash
# The GPU path of the ablations, measured in one command that fits in 8 minutes on one H100/H200:
#   1. the 50m preset on 100M tokens: steady tokens/s, MFU (bf16 dense peak), compile seconds, held-out BPB
#   2. 16 × 14m proxies trained as one pack vs one after another: summed tokens/s and the speedup
#
#   benchmarks/gpu_ablation.sh [--out DIR]        # on a CUDA machine (targets: MFU ≥ 40 %, packed ≥ 8×)
#   benchmarks/gpu_ablation.sh --cpu --tiny       # the same steps at toy sizes on CPU, in seconds
#
# Figures go to stdout and to DIR/50m.json and DIR/packed.json (default DIR: gpu-ablation-results).
# Each step has its own time limit, so one slow step cannot eat the other's budget. If the packed step
# fails (not by time), e.g. torch.compile of the vmapped step, it is retried without compilation in the
# time left, and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

out=gpu-ablation-results
cpu=0
tiny=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --cpu) cpu=1; shift ;;
    --tiny) tiny=1; shift ;;
    *) echo "usage: $0 [--out DIR] [--cpu] [--tiny]" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
py=${PYTHON:-python}
bench=benchmarks/proxy_throughput.py

if [[ $cpu -eq 1 ]]; then
  dev=(--device cpu --threads 2)
else
  dev=(--device cuda)
  $py -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device (use --cpu)')"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
fi

if [[ $tiny -eq 1 ]]; then
  single=(--preset smoke --context 64 --tokens 20000 --batch 8)
  packed=(--preset smoke --context 64 --k 2 --steps 3 --batch 4 --repeat 1)
  limit_single=120 limit_packed=120
else
  # 100M tokens at 32 × 1024 per step = 3,052 steps; at 40 % MFU on an H200 that is about a minute
  single=(--preset 50m --tokens 100M --batch 32 --lr 1e-3)
  # 16 members × 120 steps × 16 × 512 tokens, once packed and once sequentially (plus a warm-up of each)
  packed=(--preset 14m --k 16 --steps 120 --batch 16 --repeat 1)
  limit_single=240 limit_packed=210
fi

budget=470  # seconds for both steps: the whole command stays under 8 minutes
echo "== 1/2 single run: ${single[*]}"
timeout "$limit_single" $py $bench single "${single[@]}" "${dev[@]}" --json "$out/50m.json"

echo "== 2/2 packed vs sequential: ${packed[*]}"
rc=0
timeout "$limit_packed" $py $bench packed "${packed[@]}" "${dev[@]}" --json "$out/packed.json" || rc=$?
left=$((budget - SECONDS))
if [[ $rc -ne 0 && $rc -ne 124 && $left -gt 30 ]]; then  # failed (not timed out): compile of the vmapped step?
  echo "packed step failed (exit $rc); retrying with --compile off in the ${left} s left" >&2
  timeout "$left" $py $bench packed "${packed[@]}" "${dev[@]}" --compile off --json "$out/packed.json"
elif [[ $rc -ne 0 ]]; then
  echo "packed step failed (exit $rc; 124 = ran past ${limit_packed} s)" >&2
  exit "$rc"
fi
echo "== figures in $out/ (${SECONDS} s)"
