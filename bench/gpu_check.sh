#!/usr/bin/env bash
# The GPU measurement of the pipeline in one run (issues 13 and 19): run it as is on a machine
# with one GPU; it needs the project importable (PYTHONPATH=src is set here) and nothing else.
#
#   bash bench/gpu_check.sh                  # GPU: full sizes, a budget of 400 s on one H100
#   bash bench/gpu_check.sh --cpu            # the same steps at tiny sizes on the CPU (CI)
#   bash bench/gpu_check.sh --out DIR        # default: $OUT if set, else bench/gpu_check/<time>
#
# Shaped for a remote GPU runner that returns at most 8 files from $OUT, at most two folders
# deep, named with letters, digits, '.', '_' and '-': the steps work in a scratch folder, and
# the output folder receives exactly five files:
#   summary.md, summary.json     the table of every step (earlyphase.bench.check_summary)
#   throughput_reference.json    bench/throughput_reference.json with the new measurements
#   steps.tsv                    step, status, seconds, exit code
#   gpu_check.tar.gz             everything else: each step's .json and .log, the cost reports
# The interpreter is $PYTHON, else python3 (the one that holds PyTorch on the GPU machines).
#
# Every step runs under its own timeout (with --cpu five times the GPU's) and under what is
# left of a total budget (GPU 400 s, CPU 600 s; --budget S): a step that would start with less than 5 s left is skipped, a hung
# one killed; a failed step never stops the others. The figures that matter come first:
#   preflight          python3, the imports (jsonschema optional), torch.cuda.is_available(),
#                      the device's name; when it fails every other step is skipped
#   correctness        earlyphase.bench.cuda_correctness: the device in fp32 against the CPU on
#                      the same batches, bf16 against fp32, graph replay against eager, an
#                      unfreeze with the CUDA optimizer, a resume on the device
#   bench_main         ResNet-18, VGG-11, simple CNN (CIFAR shape), ResNet-18 and the FCN
#                      (MNIST shape): images/s against the plain reference loop, and the probe
#                      points the cost model reads; merged into the reference file
#   pack               K = 1, 2, 4, 8 ResNet-18 runs as processes on the device (merged: the
#                      cost model's packing factor)
#   cost_k1, cost_kbest  the cost model of `all` from the new measurements, K = 1 and the K
#                      of the best aggregate images/s of `pack`
#   determinism        two `train --deterministic` runs, compared bit for bit
#   bench_cuda_graphs  one run per workload with the update replayed as a CUDA graph
#   pack_cuda_graphs   K runs with CUDA graphs
#   sync               torch.cuda.set_sync_debug_mode("warn") over 50 steps (+ probes)
#   bench_compile      torch.compile (inductor; CPU: aot_eager), ResNet-18 and the CNN
# Left out of this first run: MPS packs (scripts/mps.sh) and runs without cuDNN autotuning
# (`python -m earlyphase.bench --no-cudnn-benchmark`); run them by hand when there is time.
# On a GPU the reference file is also copied over bench/throughput_reference.json (the output
# folder's copy is what a remote session brings back); with --cpu the repository is untouched.
set -uo pipefail
cd "$(dirname "$0")/.."

mode=gpu
out="${OUT:-}"
budget=""
while [ $# -gt 0 ]; do
    case "$1" in
        --cpu) mode=cpu ;;
        --out) out="$2"; shift ;;
        --budget) budget="$2"; shift ;;
        *) echo "usage: bash bench/gpu_check.sh [--cpu] [--out DIR] [--budget SECONDS]" >&2; exit 2 ;;
    esac
    shift
done
py="${PYTHON:-python3}"
if ! command -v "$py" > /dev/null 2>&1; then
    echo "gpu_check: no interpreter '$py' (set PYTHON)" >&2
    exit 2
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
[ -n "$out" ] || out="bench/gpu_check/$(date +%Y%m%d-%H%M%S)-$mode"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")"
# Compiler caches of this run (inductor, Triton) beside it, removed with it: nothing leaks
# into the machine's temporary folder or the archive.
caches="$(mktemp -d "${TMPDIR:-/tmp}/gpu_check_caches.XXXXXX")"
trap 'rm -rf "$scratch" "$caches"' EXIT
export EARLYPHASE_COMPILE_CACHE="$caches/inductor" TORCHINDUCTOR_CACHE_DIR="$caches/inductor" \
    TRITON_CACHE_DIR="$caches/triton"
ref="$scratch/throughput_reference.json"
cp bench/throughput_reference.json "$ref"
: > "$scratch/steps.tsv"

if [ "$mode" = gpu ]; then
    budget="${budget:-400}"
    slow=1  # step timeouts as written
    need_cuda=(--need-cuda)
    sizes=(--device cuda)
    workloads="resnet18-cifar,vgg11-cifar,simple_cnn-cifar,resnet18-mnist,fcn-mnist"
    probes=(--probes cost-model --probe-points 1024)
    graphs="resnet18-cifar,vgg11-cifar,simple_cnn-cifar"
    packs="1,2,4,8"
    pack_steps=(--steps 200 --warmup 20)
    correctness=(--device cuda)
    determinism=(--device cuda)
    sync=(--device cuda --probe)
    compile=(--compile --workloads resnet18-cifar,simple_cnn-cifar)
    measured_on=cuda
    note="gpu_check.sh"
else
    budget="${budget:-600}"
    slow=5  # a 2-core CPU, shared: the timeouts are the GPU's, five times over
    need_cuda=()
    sizes=(--device cpu --quick --batch-size 8 --width 0.125 --steps 2 --warmup 1 --threads 1)
    workloads="resnet18-cifar,simple_cnn-cifar,fcn-mnist"
    probes=(--probes cost-model --probe-points 8)
    graphs="simple_cnn-cifar"
    packs="1,2"
    pack_steps=()
    correctness=(--device cpu --batch-size 8 --width 0.125 --steps 4 --threads 1)
    determinism=(--device cpu --workload simple_cnn-cifar --batch-size 8 --width 0.125 --steps 4 --points 8)
    sync=(--device cpu --workload simple_cnn-cifar --batch-size 8 --width 0.125 --steps 5 --warmup 1)
    compile=(--compile --compile-backend aot_eager --workloads simple_cnn-cifar)
    measured_on=cpu
    note="gpu_check.sh --cpu (tiny sizes)"
fi
start=$(date +%s)
preflight_ok=yes

# step NAME TIMEOUT COMMAND...: run COMMAND under min(TIMEOUT, budget left), log to NAME.log.
step() {
    local name="$1" limit=$(($2 * slow)) left began status code
    shift 2
    if [ "$preflight_ok" != yes ]; then
        printf '%s\tskipped (preflight failed)\t0\t-\n' "$name" >> "$scratch/steps.tsv"
        return
    fi
    left=$((budget - ($(date +%s) - start)))
    if [ "$left" -lt 5 ]; then
        printf '%s\tskipped (budget)\t0\t-\n' "$name" >> "$scratch/steps.tsv"
        echo "== $name: skipped, the budget of $budget s is spent"
        return
    fi
    [ "$limit" -le "$left" ] || limit="$left"
    echo "== $name (timeout ${limit} s)"
    began=$(date +%s)
    timeout --kill-after=10 "$limit" "$@" > "$scratch/$name.log" 2>&1
    code=$?
    case "$code" in
        0) status=ok ;;
        124|137) status=timeout ;;
        *) status=failed ;;
    esac
    printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$(($(date +%s) - began))" "$code" >> "$scratch/steps.tsv"
    echo "   $status after $(($(date +%s) - began)) s"
    [ "$status" = ok ] || tail -n 5 "$scratch/$name.log"
}

# The K of the best aggregate images/s of the pack step (1 when it measured nothing).
best_k() {
    "$py" - "$scratch/pack.json" <<'PY' 2>/dev/null || echo 1
import json, sys
rows = [r for r in json.load(open(sys.argv[1]))["pack"] if r["workload"] == "resnet18-cifar"]
print(max(rows, key=lambda r: r["images_per_s"])["k"] if rows else 1)
PY
}

bench=("$py" -m earlyphase.bench "${sizes[@]}")
cost=("$py" -m earlyphase cost all --reference "$ref" --measured-on "$measured_on")

step preflight 120 "$py" -m earlyphase.bench.preflight "${need_cuda[@]}" --out "$scratch/preflight.json"
[ "$(tail -n 1 "$scratch/steps.tsv" | cut -f2)" = ok ] || preflight_ok=no
step correctness 90 "$py" -m earlyphase.bench.cuda_correctness "${correctness[@]}" --out "$scratch/correctness.json"
step bench_main 150 "${bench[@]}" --workloads "$workloads" "${probes[@]}" --out "$scratch/bench_main.json" \
    --reference-file "$ref" --note "$note: default fast path"
step pack 120 "${bench[@]}" --workloads resnet18-cifar --pack "$packs" "${pack_steps[@]}" \
    --out "$scratch/pack.json" --reference-file "$ref" --note "$note: K runs per device"
step cost_k1 60 "${cost[@]}" --pack 1 --out "$scratch/cost_k1.txt"
step cost_kbest 60 "${cost[@]}" --pack "$(best_k)" --out "$scratch/cost_kbest.txt"
step determinism 90 "$py" -m earlyphase.bench.determinism "${determinism[@]}" --out "$scratch/determinism.json"
step bench_cuda_graphs 60 "${bench[@]}" --workloads "$graphs" --cuda-graphs --no-probes \
    --out "$scratch/bench_cuda_graphs.json"
step pack_cuda_graphs 120 "${bench[@]}" --workloads resnet18-cifar --pack "$packs" "${pack_steps[@]}" \
    --cuda-graphs --out "$scratch/pack_cuda_graphs.json"
step sync 45 "$py" -m earlyphase.bench.sync_check "${sync[@]}" --out "$scratch/sync.json"
step bench_compile 150 "${bench[@]}" "${compile[@]}" --no-probes --out "$scratch/bench_compile.json"

# The summary, then the output folder: five files, whatever happened above.
if ! "$py" -m earlyphase.bench.check_summary "$scratch" > "$scratch/summary.log" 2>&1; then
    { echo "# gpu_check: the summary failed (see summary.log in gpu_check.tar.gz)"; echo
      echo "| step | status | seconds | exit |"; echo "|---|---|---|---|"
      sed 's/\t/ | /g; s/^/| /; s/$/ |/' "$scratch/steps.tsv"; } > "$scratch/summary.md"
    echo '{"summary_failed": true}' > "$scratch/summary.json"
fi
cat "$scratch/summary.md"
for file in summary.md summary.json throughput_reference.json steps.tsv; do
    cp "$scratch/$file" "$out/$file"
done
tar -czf "$out/gpu_check.tar.gz" -C "$scratch" \
    --exclude=./summary.md --exclude=./summary.json --exclude=./throughput_reference.json --exclude=./steps.tsv .
if [ "$mode" = gpu ]; then
    cp "$ref" bench/throughput_reference.json
    echo "bench/throughput_reference.json updated (copy: $out/throughput_reference.json)"
fi
echo "results in $out ($(($(date +%s) - start)) s)"
