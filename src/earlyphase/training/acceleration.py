"""Execution settings of the training step: the fast path (CUDA) and the plain path (CPU).

The training loop (:mod:`earlyphase.training.trainer`) computes the same thing on every device; this
module decides *how*. A ``fast`` block, given to the :class:`~earlyphase.training.trainer.Trainer`
beside ``device``, has three switches:

* ``precision``: ``"fp32"`` or ``"bf16"``. With ``bf16`` the forward pass, the loss and any
  penalty run under ``torch.autocast(dtype=torch.bfloat16)``: convolutions and matrix
  products compute in bf16, while the parameters (the "master weights"), their gradients,
  the optimizer state and the BatchNorm statistics stay fp32 and the cross-entropy is
  computed in fp32 (autocast's own op lists).
* ``channels_last``: the model's 4-d parameters and every input batch use the NHWC memory
  layout, which tensor-core convolutions prefer. Values are unchanged; only strides differ.
* ``compile``: the model's forward (and, through AOTAutograd, its backward) goes through
  ``torch.compile`` with static shapes (``dynamic=False``: the full batch and the last
  partial batch of an epoch are two graphs, never a dynamic-shape one), and inductor's
  caches live in one folder shared by every job (:func:`compile_cache_dir`), so only the
  first job of a grid pays for code generation. The optimizer step stays eager. See
  "compile and gradual unfreezing".
* ``cuda_graphs``: the whole update (forward, loss, backward, optimizer step, loss
  accumulation) of a full batch is captured once in a CUDA graph and replayed
  (:mod:`earlyphase.training.cuda_graph_step`); CUDA only (elsewhere it is switched off and the
  reason recorded), off by default.

Defaults: ``bf16`` + ``channels_last`` on CUDA, ``fp32`` without either on CPU; ``compile``
and ``cuda_graphs`` are off unless asked for. On CUDA the SGD / Adam / AdamW optimizers are
also built with ``fused=True`` (:func:`optimizer_options`), and a job that is not
``--deterministic`` lets cuDNN autotune its convolutions (:func:`configure_cuda`). SGD in a
gradual-unfreezing run is the exception: ``foreach`` instead of ``fused`` (see
:func:`optimizer_options`). A resumed optimizer keeps the implementation this process chose
and its buffers take their parameters' memory layout (:func:`load_optimizer_state`).

By default these are *execution* settings, like the device: they are not part of a run's
config, so they never change its run id. But bf16 results differ numerically from fp32 ones
(about three significant digits per matmul; trajectories drift apart over training, as two
fp32 runs on different hardware do), so a run records what it ran with in
``final/execution.json`` (:meth:`FastPath.describe`). Compare bf16 against fp32 runs only
through their statistics over seeds, never value by value.

The CPU fast path: params.yaml's ``training.precision: bf16`` and ``training.channels_last:
true`` put ``precision`` / ``channels_last`` into every run config (:func:`run_config_entries`),
so those runs get run ids of their own. Only a value that differs from today's CPU path
(fp32, contiguous) is added: the default adds nothing and no existing run id changes. A run
config that fixes a setting is obeyed on every device, and an execution request that
contradicts it (``--precision fp32`` for a bf16 run) is refused (:meth:`FastPath.resolve`).
bf16 is fast on a CPU only with native bf16 instructions (AVX-512 BF16 or AMX,
:mod:`earlyphase.training.cpu_bf16`). Without them the run still computes in bf16, as its
config says (falling back to fp32 would make the config lie), but emulated, several times
slower than fp32: the job warns, and ``execution.json`` records ``cpu_bf16_native: false``.
On such a CPU, ``channels_last`` alone is the fast path.

compile and gradual unfreezing. Gradual unfreezing flips ``requires_grad`` on whole blocks
mid-run. TorchDynamo guards every parameter's ``requires_grad`` (and every module's
``training`` flag, which ``freeze_bn_stats`` toggles), so a changed frozen set is a guard
failure and triggers a recompile: the compiled graph never keeps a stale frozen set, and
frozen parameters still end with ``grad is None``. A run therefore compiles at most
``L + 1`` graphs (one per number of unfrozen blocks; ResNet-18 has L = 5, VGG-11 L = 8),
which exceeds Dynamo's default limit of 8 graphs per frame for VGG-11, after which Dynamo
would silently run the frame eagerly; :class:`CompiledForward` raises the limit.
``tests/training/test_fast_path.py`` checks the compiled trajectory against the eager one
with the frozen set changing mid-run (with the ``aot_eager`` backend, which runs the same
guards and autograd split as inductor without its minutes-long C++ code generation on a CPU).

Two things turn compile off: a gradient penalty (it differentiates the forward graph twice
with ``create_graph=True``, which AOTAutograd does not support) and any failure of Dynamo or
the backend at run time (:class:`CompiledForward` falls back to the eager model, warns once
and records why). Probes never see the compiled wrapper: they take the eager module.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from torch import nn

PRECISIONS = ("fp32", "bf16")
_AUTOCAST_DTYPES = {"bf16": torch.bfloat16}
FAST_KEYS = ("precision", "channels_last", "compile", "cuda_graphs")
# The settings a run config may fix (params.yaml training.<key>) and the value that adds
# nothing to it: today's CPU path, so the run ids made before these keys existed stay.
RUN_CONFIG_DEFAULTS = {"precision": "fp32", "channels_last": False}
COMPILE_CACHE_ENV = "EARLYPHASE_COMPILE_CACHE"
# Dynamo compiles one graph per frozen set; enough for every model of the zoo, with room
# for the train/eval switches of `freeze_bn_stats`.
_RECOMPILE_LIMIT = 64


def default_fast(device: torch.device) -> dict:
    """The defaults of the fast block on ``device``: bf16 + channels_last on CUDA, fp32 on CPU."""
    if device.type == "cuda":
        return {"precision": "bf16", "channels_last": True, "compile": False, "cuda_graphs": False}
    return {"precision": "fp32", "channels_last": False, "compile": False, "cuda_graphs": False}


def run_config_entries(training: dict) -> dict:
    """The run-config entries of params.yaml's ``training`` block: ``precision`` and
    ``channels_last``, each only when it differs from :data:`RUN_CONFIG_DEFAULTS`."""
    entries = {key: training[key] for key, default in RUN_CONFIG_DEFAULTS.items()
               if key in training and training[key] != default}
    if entries.get("precision", "fp32") not in PRECISIONS:
        raise ValueError(f"training.precision must be one of {PRECISIONS}, got {entries['precision']!r}")
    if "channels_last" in entries:
        entries["channels_last"] = bool(entries["channels_last"])
    return entries


def fixed_by_run(run_config: dict | None) -> dict:
    """The fast-path settings ``run_config`` fixes (part of its run id)."""
    return {key: run_config[key] for key in RUN_CONFIG_DEFAULTS if run_config and key in run_config}


@dataclass(frozen=True)
class FastPath:
    """Resolved execution settings of one training process."""

    precision: str = "fp32"
    channels_last: bool = False
    compile: bool = False
    compile_backend: str = "inductor"
    compile_disabled_because: str | None = field(default=None, compare=False)
    cuda_graphs: bool = False
    cuda_graphs_disabled_because: str | None = field(default=None, compare=False)
    # bf16 on a CPU: whether it has native bf16 instructions (None: not a CPU bf16 job)
    cpu_bf16_native: bool | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise ValueError(f"fast.precision must be one of {PRECISIONS}, got {self.precision!r}")

    @classmethod
    def resolve(cls, spec: dict | FastPath | None, device: torch.device, *,
                compile_backend: str = "inductor", run_config: dict | None = None) -> FastPath:
        """Merge ``spec`` (keys of :data:`FAST_KEYS`; missing or ``None`` = what ``run_config``
        fixes, else the device default). A ``spec`` that contradicts ``run_config`` is refused."""
        fixed = fixed_by_run(run_config)
        if isinstance(spec, FastPath):
            path = spec
        else:
            spec = dict(spec or {})
            unknown = sorted(set(spec) - set(FAST_KEYS))
            if unknown:
                raise ValueError(f"unknown fast-path settings {unknown}; valid: {list(FAST_KEYS)}")
            settings = {**default_fast(device), **fixed}
            settings.update({k: v for k, v in spec.items() if v is not None})
            path = cls(precision=settings["precision"], channels_last=bool(settings["channels_last"]),
                       compile=bool(settings["compile"]), compile_backend=compile_backend,
                       cuda_graphs=bool(settings["cuda_graphs"]))
        for key, value in fixed.items():
            if getattr(path, key) != value:
                raise ValueError(
                    f"the run config fixes {key}={value!r} (it is part of the run id), but this job was "
                    f"asked to run with {key}={getattr(path, key)!r}; drop the execution option, or change "
                    f"training.{key} in params.yaml (a different run)")
        if path.cuda_graphs and device.type != "cuda":
            path = path.without_cuda_graphs(f"CUDA graphs need a CUDA device, this job runs on {device.type}")
        if path.precision == "bf16" and device.type == "cpu" and path.cpu_bf16_native is None:
            path = path.with_cpu_bf16_support()
        return path

    def with_cpu_bf16_support(self) -> FastPath:
        """Record whether this CPU has native bf16; warn when it must be emulated (slow)."""
        from earlyphase.training.cpu_bf16 import bf16_support

        support = bf16_support()
        if not support["native"]:
            warnings.warn(
                f"bf16 autocast on a CPU without native bf16 instructions (AVX-512 BF16 or AMX; this one "
                f"dispatches {support['capability']}): it runs emulated, typically several times slower than "
                "fp32. The run keeps its bf16 precision (its config says so); for speed on this CPU use "
                "training.precision: fp32 with training.channels_last: true", RuntimeWarning, stacklevel=3)
        return replace(self, cpu_bf16_native=support["native"])

    def without_compile(self, reason: str) -> FastPath:
        return replace(self, compile=False, compile_disabled_because=reason)

    def without_cuda_graphs(self, reason: str) -> FastPath:
        return replace(self, cuda_graphs=False, cuda_graphs_disabled_because=reason)

    # ------------------------------------------------------------------ step pieces
    def autocast(self, device: torch.device, cache: bool = True):
        """Context for the forward pass and loss: bf16 autocast, or nothing in fp32.

        ``cache=False`` while a CUDA graph is captured (autocast's weight-cast cache would
        hand the graph tensors that live outside it)."""
        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=_AUTOCAST_DTYPES[self.precision],
                              cache_enabled=cache)

    def prepare_model(self, model: nn.Module) -> nn.Module:
        """Put the model's parameters in the chosen memory layout (in place)."""
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        return model

    def prepare_inputs(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.channels_last and inputs.dim() == 4:
            return inputs.contiguous(memory_format=torch.channels_last)
        return inputs

    def training_forward(self, model: nn.Module):
        """The callable the loop uses for ``logits = forward(inputs)``."""
        if not self.compile:
            return model
        return CompiledForward(model, backend=self.compile_backend)

    def describe(self) -> dict:
        return asdict(self)


def optimizer_options(device: torch.device, kind: str, cuda_graphs: bool = False,
                      trainable_set_changes: bool = False) -> dict:
    """Extra keyword arguments of the optimizer constructor: ``fused=True`` on CUDA, and
    for Adam/AdamW under CUDA graphs ``capturable=True`` (step counters on the device).

    The fused kernels skip parameters whose ``grad`` is ``None`` as the for-loop ones do, so
    frozen blocks still get no update, no weight decay and no optimizer state.

    Except SGD in a run whose trainable set grows mid-run (``trainable_set_changes``:
    gradual unfreezing): it gets ``foreach=True`` instead. PyTorch's fused SGD creates
    momentum buffers only when *every* parameter of the step lacks one, so the first step
    after a block unfreezes (head with buffers, block without) raises ``TypeError``.
    foreach SGD starts each new buffer as PyTorch's reference SGD does (``buf = grad``, the
    update includes weight decay) and matches the for-loop SGD bit for bit on the CPU
    (tests/training/test_fused_optimizers.py); zero buffers created at the unfreeze would
    equal it only while ``dampening == 0``. Adam/AdamW keep ``fused``: their state is
    created per parameter.
    """
    if device.type == "cuda" and kind in ("sgd", "adam", "adamw"):
        if kind == "sgd" and trainable_set_changes:
            return {"foreach": True}
        if cuda_graphs and kind in ("adam", "adamw"):
            return {"fused": True, "capturable": True}
        return {"fused": True}
    return {}


# Keys of an optimizer's param groups that choose its implementation, not its arithmetic.
IMPLEMENTATION_KEYS = ("fused", "foreach", "capturable", "differentiable")


def load_optimizer_state(optimizer: torch.optim.Optimizer, state: dict) -> None:
    """``optimizer.load_state_dict(state)`` for a resume, possibly on another device.

    ``load_state_dict`` takes every group setting from the checkpoint, the implementation
    flags included: a CPU-written state would turn a CUDA job's fused SGD into foreach, and
    a checkpoint of an older build could bring ``fused=True`` back into a gradual-unfreezing
    run. The flags this process chose (:func:`optimizer_options`) are kept, and the buffers
    take their parameters' layout (:func:`match_state_layout`).
    """
    chosen = [{k: group[k] for k in IMPLEMENTATION_KEYS if k in group} for group in optimizer.param_groups]
    optimizer.load_state_dict(state)
    for group, flags in zip(optimizer.param_groups, chosen, strict=True):
        group.update(flags)
    match_state_layout(optimizer)


def match_state_layout(optimizer: torch.optim.Optimizer) -> int:
    """Give every optimizer buffer shaped like its parameter the parameter's memory layout
    (strides); return how many were converted.

    Fused kernels walk a parameter, its gradient and its buffers as flat memory of one
    layout; a buffer whose strides differ (a checkpoint written by a contiguous CPU run,
    resumed by a channels_last CUDA run) would be updated element against the wrong
    element, silently. ``Optimizer.load_state_dict`` keeps the saved strides, so a resume
    calls this after it (:func:`load_optimizer_state`). Values are unchanged.
    """
    converted = 0
    for group in optimizer.param_groups:
        for param in group["params"]:
            state = optimizer.state.get(param, {})
            for key, value in state.items():
                if (torch.is_tensor(value) and value.shape == param.shape
                        and value.stride() != param.stride()):
                    state[key] = torch.empty_like(param, dtype=value.dtype).copy_(value)
                    converted += 1
    return converted


def compile_cache_dir(env=None) -> Path:
    """Inductor's cache folder, shared by every job of a user on a machine (or cluster).

    ``$EARLYPHASE_COMPILE_CACHE`` when set (point it at a shared file system on a cluster),
    else ``$TORCHINDUCTOR_CACHE_DIR``, else ``<tmp>/earlyphase-inductor-<uid>``. Compiled
    graphs are keyed by their content, so jobs of different runs reuse each other's.
    """
    env = os.environ if env is None else env
    for name in (COMPILE_CACHE_ENV, "TORCHINDUCTOR_CACHE_DIR"):
        if env.get(name):
            return Path(env[name])
    return Path(tempfile.gettempdir()) / f"earlyphase-inductor-{os.getuid()}"


def use_persistent_compile_cache() -> Path:
    """Point inductor (FX graph and AOTAutograd caches, Triton kernels) at
    :func:`compile_cache_dir`; inductor reads these variables when it compiles."""
    folder = compile_cache_dir()
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(folder)
    os.environ.setdefault("TORCHINDUCTOR_FX_GRAPH_CACHE", "1")
    os.environ.setdefault("TORCHINDUCTOR_AUTOGRAD_CACHE", "1")
    os.environ.setdefault("TRITON_CACHE_DIR", str(folder / "triton"))
    return folder


class CompiledForward:
    """``torch.compile(model, dynamic=False)`` that falls back to the eager ``model`` if
    compiling fails.

    Only errors raised by TorchDynamo or the compiler backend trigger the fallback (they are
    raised before the graph runs, so no BatchNorm statistic has been updated); any other
    error propagates. ``failure`` holds the error (one line) once it happened.
    """

    def __init__(self, model: nn.Module, backend: str = "inductor"):
        import torch._dynamo

        config = torch._dynamo.config
        for name in ("recompile_limit", "cache_size_limit"):
            if hasattr(config, name):
                setattr(config, name, max(getattr(config, name), _RECOMPILE_LIMIT))
                break
        self.model = model
        self.backend = backend
        self.cache_dir = use_persistent_compile_cache()
        # Static shapes: the last partial batch gets a graph of its own instead of turning
        # every later graph into a slower dynamic-shape one.
        self.compiled = torch.compile(model, backend=backend, dynamic=False)
        self.failure: str | None = None

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.failure is None:
            from torch._dynamo.exc import TorchDynamoException

            try:
                return self.compiled(inputs)
            except TorchDynamoException as err:
                self.failure = f"{type(err).__name__}: {' '.join(str(err).split())[:300]}"
                warnings.warn(f"torch.compile failed, training continues eagerly: {self.failure}",
                              RuntimeWarning, stacklevel=2)
        return self.model(inputs)


def configure_cuda(deterministic: bool) -> None:
    """The process-wide cuDNN / cuBLAS settings of a job, before its first CUDA work.

    Deterministic: :func:`apply_deterministic_cuda`. Otherwise cuDNN autotunes: it times
    the candidate convolution algorithms once per shape and keeps the fastest (a training
    step has two shapes, the full and the last partial batch). Harmless on a CPU job.
    """
    if deterministic:
        apply_deterministic_cuda()
    else:
        torch.backends.cudnn.benchmark = True


def apply_deterministic_cuda() -> None:
    """Settings that make CUDA training repeatable run to run (docs/performance.md).

    ``CUBLAS_WORKSPACE_CONFIG`` must be set before the first cuBLAS call; setting it here
    works only if no CUDA work happened yet in this process.
    """
    import os

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.use_deterministic_algorithms(True)
