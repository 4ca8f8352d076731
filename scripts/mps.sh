#!/usr/bin/env bash
# Start, stop or query the CUDA Multi-Process Service (MPS) for this user on one machine.
#
#   scripts/mps.sh start    # then run K jobs per GPU (workflow/profiles/gpu-slots)
#   scripts/mps.sh status
#   scripts/mps.sh stop     # after the last GPU job ended
#
# Under MPS the processes of K training runs share each GPU's SMs at the same time instead
# of time-slicing it, which is what lets small launch-bound steps add up. The daemon keeps
# its pipes and logs under $CUDA_MPS_PIPE_DIRECTORY / $CUDA_MPS_LOG_DIRECTORY (default:
# <tmp>/earlyphase-mps-<uid>/{pipe,log}); jobs find the daemon through the same variables,
# so export them in the shell that starts Snakemake. Only processes started after `start`
# use MPS. It does not change the GPU's compute mode or any other device setting.
set -euo pipefail

base="${TMPDIR:-/tmp}/earlyphase-mps-$(id -u)"
export CUDA_MPS_PIPE_DIRECTORY="${CUDA_MPS_PIPE_DIRECTORY:-$base/pipe}"
export CUDA_MPS_LOG_DIRECTORY="${CUDA_MPS_LOG_DIRECTORY:-$base/log}"

if ! command -v nvidia-cuda-mps-control >/dev/null 2>&1; then
    echo "mps.sh: nvidia-cuda-mps-control not found (NVIDIA driver utilities); MPS unavailable" >&2
    exit 2
fi

case "${1:-}" in
    start)
        mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
        nvidia-cuda-mps-control -d
        echo "MPS started; in the job shell: export CUDA_MPS_PIPE_DIRECTORY=$CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY=$CUDA_MPS_LOG_DIRECTORY"
        ;;
    stop)
        echo quit | nvidia-cuda-mps-control
        echo "MPS stopped"
        ;;
    status)
        echo get_server_list | nvidia-cuda-mps-control
        ;;
    *)
        echo "usage: scripts/mps.sh start|stop|status" >&2
        exit 2
        ;;
esac
