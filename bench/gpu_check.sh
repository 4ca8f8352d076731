#!/usr/bin/env bash
# The GPU measurement of the pipeline in one run (issue 13): run it as is on a machine with
# one GPU; it needs the project importable (PYTHONPATH=src is set here) and nothing else.
#
#   bash bench/gpu_check.sh                  # GPU: full sizes, <= 8 minutes on one H100
#   bash bench/gpu_check.sh --cpu            # the same steps at tiny sizes on the CPU (< 2 min)
#   bash bench/gpu_check.sh --out DIR        # default: $OUT if set, else bench/gpu_check/<time>
#
# Every step runs under its own timeout, and under what is left of a total budget (GPU 460 s,
# CPU 110 s; --budget S): a step that would start too late is skipped, a hung one killed; a
# failed step never stops the others. Steps, most important first:
#   bench_main                 ResNet-18, VGG-11, simple CNN (CIFAR shape) and ResNet-18 (MNIST
#                              shape): one run's images/s against the plain reference loop, and
#                              one point of each probe; merged into the reference file
#   pack                       K = 1, 2, 4, 8 ResNet-18 runs as processes on the device: aggregate
#                              images/s (merged: the cost model's packing factor)
#   bench_cuda_graphs          one run per workload with the update replayed as a CUDA graph
#   pack_cuda_graphs           K runs with CUDA graphs
#   determinism                two `train --deterministic` runs, compared bit for bit
#   sync                       torch.cuda.set_sync_debug_mode("warn") over 50 steps (+ probes)
#   bench_no_cudnn_benchmark   one run per workload without cuDNN autotuning
#   bench_compile              torch.compile (inductor; CPU: aot_eager), ResNet-18 and the CNN
#   pack_mps                   K runs with CUDA graphs under MPS (scripts/mps.sh), if available
#   cost_k1, cost_k8           the cost model of `all` from the new measurements, K = 1 and 8
#                              (CPU: K = 8 only)
#   summary                    summary.md / summary.json (earlyphase.bench.check_summary)
# Everything goes into one folder: <step>.json, <step>.log, steps.tsv, summary.md and
# throughput_reference.json (bench/throughput_reference.json with the new measurements).
# On a GPU that file is then copied over bench/throughput_reference.json (the folder's copy
# is what a remote session brings back); with --cpu the repository is left untouched.
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
py="${PYTHON:-python}"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
[ -n "$out" ] || out="bench/gpu_check/$(date +%Y%m%d-%H%M%S)-$mode"
mkdir -p "$out"
ref="$out/throughput_reference.json"
cp bench/throughput_reference.json "$ref"
: > "$out/steps.tsv"

if [ "$mode" = gpu ]; then
    budget="${budget:-460}"
    sizes=(--device cuda)
    workloads="resnet18-cifar,vgg11-cifar,simple_cnn-cifar,resnet18-mnist"
    training="resnet18-cifar,vgg11-cifar,simple_cnn-cifar"
    packs="1,2,4,8"
    pack_steps=(--steps 200 --warmup 20)
    compile=(--compile --workloads resnet18-cifar,simple_cnn-cifar)
    determinism=(--device cuda)
    sync=(--device cuda)
    note="gpu_check.sh"
    costs=(1 8)
else
    budget="${budget:-110}"
    sizes=(--device cpu --quick --batch-size 8 --width 0.125 --steps 2 --warmup 1 --threads 1
           --probe-points 8)
    workloads="resnet18-cifar,simple_cnn-cifar"
    training="simple_cnn-cifar"
    packs="1,2"
    pack_steps=()
    compile=(--compile --compile-backend aot_eager --workloads simple_cnn-cifar)
    determinism=(--device cpu --workload simple_cnn-cifar --batch-size 8 --width 0.125 --steps 4 --points 8)
    sync=(--device cpu --workload simple_cnn-cifar --batch-size 8 --width 0.125 --steps 5 --warmup 1
          --probe-points 8)
    note="gpu_check.sh --cpu (tiny sizes)"
    costs=(8)
fi
start=$(date +%s)

# step NAME TIMEOUT COMMAND...: run COMMAND under min(TIMEOUT, budget left), log to NAME.log.
step() {
    local name="$1" limit="$2" left began status code
    shift 2
    left=$((budget - ($(date +%s) - start)))
    if [ "$left" -lt 5 ]; then
        printf '%s\tskipped (budget)\t0\t-\n' "$name" >> "$out/steps.tsv"
        echo "== $name: skipped, the budget of $budget s is spent"
        return
    fi
    [ "$limit" -le "$left" ] || limit="$left"
    echo "== $name (timeout ${limit} s)"
    began=$(date +%s)
    timeout --kill-after=10 "$limit" "$@" > "$out/$name.log" 2>&1
    code=$?
    case "$code" in
        0) status=ok ;;
        124|137) status=timeout ;;
        *) status=failed ;;
    esac
    printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$(($(date +%s) - began))" "$code" >> "$out/steps.tsv"
    echo "   $status after $(($(date +%s) - began)) s"
    [ "$status" = ok ] || tail -n 5 "$out/$name.log"
}

bench=("$py" -m earlyphase.bench "${sizes[@]}")

step bench_main 240 "${bench[@]}" --workloads "$workloads" --out "$out/bench_main.json" \
    --reference-file "$ref" --note "$note: default fast path"
step pack 240 "${bench[@]}" --workloads resnet18-cifar --pack "$packs" "${pack_steps[@]}" \
    --out "$out/pack.json" --reference-file "$ref" --note "$note: K runs per device"
step bench_cuda_graphs 120 "${bench[@]}" --workloads "$training" --cuda-graphs --no-probes \
    --out "$out/bench_cuda_graphs.json"
step pack_cuda_graphs 200 "${bench[@]}" --workloads resnet18-cifar --pack "$packs" "${pack_steps[@]}" \
    --cuda-graphs --out "$out/pack_cuda_graphs.json"
step determinism 150 "$py" -m earlyphase.bench.determinism "${determinism[@]}" --out "$out/determinism.json"
step sync 120 "$py" -m earlyphase.bench.sync_check "${sync[@]}" --probe --out "$out/sync.json"
step bench_no_cudnn_benchmark 100 "${bench[@]}" --workloads "$training" --no-cudnn-benchmark --no-probes \
    --out "$out/bench_no_cudnn_benchmark.json"
step bench_compile 300 "${bench[@]}" "${compile[@]}" --no-probes --out "$out/bench_compile.json"
if [ "$mode" = gpu ] && command -v nvidia-cuda-mps-control > /dev/null 2>&1; then
    export CUDA_MPS_PIPE_DIRECTORY="$PWD/$out/mps/pipe" CUDA_MPS_LOG_DIRECTORY="$PWD/$out/mps/log"
    trap 'scripts/mps.sh stop > /dev/null 2>&1 || true' EXIT
    if scripts/mps.sh start > "$out/mps.log" 2>&1; then
        step pack_mps 200 "${bench[@]}" --workloads resnet18-cifar --pack "$packs" "${pack_steps[@]}" \
            --cuda-graphs --out "$out/pack_mps.json"
        scripts/mps.sh stop >> "$out/mps.log" 2>&1
    else
        printf 'pack_mps\tfailed (MPS did not start)\t0\t-\n' >> "$out/steps.tsv"
    fi
    unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
else
    printf 'pack_mps\tskipped (no MPS on %s)\t0\t-\n' "$mode" >> "$out/steps.tsv"
fi
for k in "${costs[@]}"; do
    step "cost_k$k" 60 "$py" -m earlyphase cost all --reference "$ref" --pack "$k" --out "$out/cost_k$k.txt"
done
"$py" -m earlyphase.bench.check_summary "$out"
if [ "$mode" = gpu ]; then
    cp "$ref" bench/throughput_reference.json
    echo "bench/throughput_reference.json updated (copy: $ref)"
fi
echo "results in $out"
