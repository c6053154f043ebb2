#!/usr/bin/env bash
# The GPU check: one script, under 5 minutes on one CUDA GPU, one table at the end.
#
#   bench/gpu_check.sh                 # from the repository root, after `make test` (or with PY=…)
#   PY=/opt/conda/bin/python bench/gpu_check.sh   # a Python whose torch is a CUDA build
#
# 1. the tests that take a device (nets, ridge) with RESEARCH_TEST_DEVICE=cuda;
# 2. bench_train on cuda, bf16 autocast and fp32, with the GPU's utilisation sampled meanwhile;
# 3. Ridge on cuda against CPU on the same 20k × 4096 spectra: time and the largest coefficient gap;
# 4. the example report with --device cuda, in a scratch clone (nothing here is written or committed).
# Paste the table into the README's Performance section with the date and the GPU's name.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${OUT:-$(mktemp -d)}
"$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA GPU: torch ' + torch.__version__)"
GPU=$("$PY" -c "import torch; print(torch.cuda.get_device_name(0))")
echo "GPU: $GPU; results in $OUT"

t0=$(date +%s)
RESEARCH_TEST_DEVICE=cuda "$PY" -m pytest -q -x tests/test_models_nets.py tests/test_models_ridge.py \
  > "$OUT/tests.txt" 2>&1 && tests="passed" || tests="FAILED (see $OUT/tests.txt)"
tests="$tests: $(tail -n 1 "$OUT/tests.txt")"

util_log="$OUT/utilisation.csv"
if command -v nvidia-smi > /dev/null; then
  nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits -lms 200 > "$util_log" &
  SMI=$!
fi
"$PY" bench/bench_train.py --n 16384 --epochs 3 --models mlp cnn vit --devices cuda > "$OUT/train.txt" 2>&1 || true
if [ -n "${SMI:-}" ]; then kill "$SMI" 2> /dev/null || true; fi
busy=$("$PY" - "$util_log" <<'PYEOF'
import sys
try:
    values = [float(v) for v in open(sys.argv[1]) if v.strip()]
    busy = sorted(values)[len(values) // 2:]  # the busier half: the training, not the set-up
    print(f"{sum(busy) / len(busy):.0f} % (median half of {len(values)} samples)" if busy else "-")
except OSError:
    print("- (no nvidia-smi)")
PYEOF
)

"$PY" - > "$OUT/ridge.txt" 2>&1 <<'PYEOF' || true
import time
import numpy as np
from engine.models import build
from engine.models.toy import toy_splits

train, val, test = toy_splits(20000, 2000, 100, 4096)
coefs, times = {}, {}
for device in ("cpu", "cuda"):
    model = build({"type": "ridge", "alphas": [1e-1, 1e1, 1e3, 1e5], "precision": "float64"}, {"device": device}, train.targets)
    t0 = time.perf_counter()
    model.fit(train, val)
    times[device] = time.perf_counter() - t0
    coefs[device] = model.coef
gap = np.max(np.abs(coefs["cuda"] - coefs["cpu"])) / np.max(np.abs(coefs["cpu"]))
print(f"ridge 20k x 4096, 4 alphas, float64: cpu {times['cpu']:.1f} s, cuda {times['cuda']:.1f} s, "
      f"largest coefficient gap {gap:.1e} (goal <= 1e-6)")
PYEOF

scratch="$OUT/notebook"
git clone -q . "$scratch"
mkdir -p "$scratch/.research"
[ -d .research/cache ] && ln -s "$(pwd)/.research/cache" "$scratch/.research/cache"
t1=$(date +%s)
(cd "$scratch" && "$PY" -c "import sys; sys.path.insert(0, '.'); from engine.cli import main; sys.exit(main(sys.argv[1:]))" \
  run research/logg_1m/exp/exp_logg_1m_multitask.md --device cuda --no-commit --retrain) > "$OUT/example.txt" 2>&1 \
  && example="ran in $(( $(date +%s) - t1 )) s; $(grep -m1 'verdict' "$OUT/example.txt" | sed 's/^ *//')" \
  || example="FAILED (see $OUT/example.txt)"

echo
echo "| GPU check ($GPU, $(date +%F)) | result |"
echo "|---|---|"
echo "| tests with device cuda | $tests |"
grep -E "^\| (mlp|cnn|vit) " "$OUT/train.txt" | sed 's/^| /| train: /' || echo "| train | see $OUT/train.txt |"
echo "| GPU busy while training | $busy (goal >= 90 %) |"
echo "| ridge cuda vs cpu | $(tail -n 1 "$OUT/ridge.txt") |"
echo "| example report, --device cuda | $example |"
echo "| total | $(( $(date +%s) - t0 )) s (goal < 300 s) |"
