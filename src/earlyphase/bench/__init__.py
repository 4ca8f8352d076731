"""Throughput benchmark of the training step and the probes: ``python -m earlyphase.bench``.

Never a test: it measures, prints a table and writes JSON. For ResNet-18, VGG-11 and the
simple CNN at CIFAR shape (3x32x32), and ResNet-18 and the phase-diagram FCN at MNIST shape
(1x28x28) (:mod:`.workloads`) it times

* the training step of :class:`earlyphase.training.trainer.Trainer` (the fast path of
  :mod:`earlyphase.training.acceleration`: device-resident uint8 data, device-side augmentation,
  bf16 + channels_last + fused SGD on CUDA), and
* a plain reference loop in the same process (:mod:`.reference_loop`: torchvision Dataset,
  DataLoader with CPU-side transforms, fp32, NCHW, ``torch.optim.SGD``),

and reports images/s, achieved TFLOP/s (FLOPs of one forward+backward counted with
``torch.utils.flop_counter.FlopCounterMode``), the fraction of the device's bf16 dense peak
(:mod:`.hardware`), peak memory and the ratio of the two step times. It also times one
probe point of each probe (tr(F), S_avg, S_worst, lambda_max) in units of a training step
(:mod:`.probe_cost`). ``--reference-file`` merges the per-step and per-probe-point seconds
into the versioned cost file ``bench/throughput_reference.json`` read by the cost model.

``--laptop`` measures only the laptop preset's step on the CPU (:mod:`.laptop`): today's fp32
path and the CPU fast path (channels_last, bf16 where native) side by side, their ratio, and
each as a fraction of the fp32 and bf16 GEMM peaks measured in the same run (:mod:`.gemm_peak`).

Modules: :mod:`.workloads` (what is measured), :mod:`.timing` (CUDA events / perf_counter,
FLOP counting), :mod:`.fast_loop`, :mod:`.reference_loop`, :mod:`.probe_cost`,
:mod:`.hardware`, :mod:`.reference_file`, :mod:`.report` (table).

Stand-alone benchmarks in the same package: ``python -m earlyphase.bench.probes`` (each
probe's cost and the tr(F) estimators' speed-ups) and ``python -m earlyphase.bench.corruptions``
(generating full-size -C sets). ``bench/`` at the repository root holds data only.
"""
