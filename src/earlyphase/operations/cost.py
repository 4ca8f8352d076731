"""Cost model: how much compute an artifact needs, before running it.

``python -m earlyphase cost [target ...] [--gpus G] [--pack K]`` counts, per artifact
(``table1``, ``figure2``, ``table_stabilization``, ... or ``all``), the training runs it
needs (shared runs once), their optimizer steps, the probe records and probe points of
probed runs, the post-hoc probes, the evaluation passes (test images through the network)
and the checkpoints, and turns them into estimated GPU-hours and the wall-clock time on G
GPUs that each train K runs at once.

What a GPU job costs (:class:`JobCost`): its GPU work alone (training steps, inline
probes, the host copies of its checkpoints) divided by the packing factor of K runs per
device, plus its start-up (process, imports, CUDA context, data and model) shared by the K
slots of the GPU. The packing factor f(K) is the measured aggregate throughput of K
concurrent runs over one run (``python -m earlyphase.bench --pack``; ``pack`` rows of the
reference file), taken at the largest measured K' <= K of the same architecture; without a
measurement f = 1 (no gain assumed) and the report says so. Evaluation jobs are not packed
(large batches already fill the device). A run packed K to a GPU takes K / f(K) times its
solo wall time; the wall-clock time on G GPUs is the larger of GPU-hours / G and the
longest job (dependencies between jobs, e.g. a stabilization run waiting for its
head-only probe run, are not modelled).

Per-step costs come from ``bench/throughput_reference.json`` (written by
``python -m earlyphase.bench --reference-file``; see
:mod:`earlyphase.bench.reference_file`): the newest GPU measurement (or the one whose
device name contains ``--device-name``), seconds per training step per (arch, input shape,
batch size, width), scaled by ``batch × width²`` from the nearest measured row of the same
architecture and input shape (see :class:`StepCosts`), and seconds per probe call scaled by
the number of probe points. Without a measured row the model falls back to
:data:`DEFAULT_SECONDS_PER_STEP` (assumed A100-class figures for batch 128, width 1, bf16)
and its report warns, naming the architectures; an architecture with neither is an error,
not priced as another network. A gradient-penalty run costs its steps plus
the extra passes of the steps that compute the penalty
(:func:`earlyphase.interventions.gradient_penalty.extra_step_equivalents`).

Probe and evaluation costs without a measurement are expressed in training-step
equivalents of a batch of 128 (:data:`PROBE_STEP_EQUIVALENTS`): a forward pass is 1/3 of a
step, a forward+backward 1 step, a Hessian-vector product 2 steps, exact per-example
Fisher 3 steps per 128 points.

Checkpoints: one per ``training.checkpoint_minutes`` of a run's (packed) wall time plus
one per ``training.checkpoint_every`` steps; each costs the device-to-host copy of the
weights and optimizer state (the file is written by a background thread,
:mod:`earlyphase.training.checkpoint_writer`). Start-up: the measured ``startup_seconds`` of the
pack benchmark's K = 1 row, else :data:`DEFAULT_STARTUP_SECONDS`.

What a target costs: the training runs of its run sets (shared runs once), plus the work
its artifact declares in ``extra_costs`` (:class:`~earlyphase.experiments.artifact.Artifact`):
cost hooks that live with the experiment they describe (post-hoc probes, phase-diagram jobs,
runs known only after earlier results such as the stabilization-chosen k or eta*) and add
that work to a :class:`Ledger`. This module holds only the generic model.
"""

from __future__ import annotations

import functools
import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import torch

from earlyphase.probes import registry as probe_registry
from earlyphase.probes.spec import FORWARD

# Seconds per training step at batch 128, width 1 (assumed, A100-class GPU, bf16).
DEFAULT_SECONDS_PER_STEP = {"resnet18": 0.020, "vgg11": 0.010, "simple_cnn": 0.003, "fcn": 0.001}
DEFAULT_DEVICE = "default (assumed A100-class GPU; no GPU measurement in the reference file)"
# Seconds from job start to the first training step (python, imports, CUDA context, data to
# the device, model and optimizer), assumed when the reference file has no measurement.
DEFAULT_STARTUP_SECONDS = {"train": 30.0, "eval": 15.0}
# Device-to-host copy into pinned memory (the part of a checkpoint the training loop waits for).
PINNED_COPY_BYTES_PER_S = 10e9


def probe_step_equivalents(probe: str, settings: dict, points: int) -> float:
    """Cost of one call of ``probe`` in training steps of batch 128 (declared by the probe's
    class in :mod:`earlyphase.probes.registry`)."""
    return probe_registry.step_equivalents(probe, settings, points)


PROBE_STEP_EQUIVALENTS = {p: probe_step_equivalents(p, {}, 128) for p in probe_registry.probe_names()}



# Input shapes (C, H, W) of reference rows that name only their shape (older files).
SHAPE_NAMES = {"cifar": (3, 32, 32), "mnist": (1, 28, 28)}


def input_shape(config: dict) -> tuple[int, int, int] | None:
    """(C, H, W) of a run's images, from its data set and ``in_channels``; None if unknown."""
    from earlyphase.data.registry import DATASETS

    dataset = (config.get("data") or {}).get("dataset")
    if dataset not in DATASETS:
        return None
    height, width, channels = DATASETS[dataset].image_shape
    return int(config.get("in_channels", channels)), height, width


def _row_shape(row: dict) -> tuple[int, int, int] | None:
    if row.get("input_shape"):
        return tuple(row["input_shape"])
    return SHAPE_NAMES.get(row.get("shape", ""))


def _shape_text(shape) -> str:
    return "x".join(str(v) for v in shape) if shape else "?"


class StepCosts:
    """Seconds per training step / probe call from the reference file, or the defaults.

    A row is chosen by architecture and input shape (C, H, W): a MNIST run is costed from a
    MNIST-shape row. Without a row of that shape, a row of another shape is scaled by the
    pixel count (recorded in :attr:`reshaped`); without any row of the architecture, the
    default of :data:`DEFAULT_SECONDS_PER_STEP` is used (recorded in :attr:`defaulted`), and
    :func:`format_report` warns about both; an architecture without either raises ValueError.
    Within a shape, the row nearest in ``batch x width^2`` is scaled to the run's (the FCN,
    whose width counts hidden units, by its batch only). ``device_type`` ``cpu`` reads CPU
    measurements (the CPU rehearsal of bench/gpu_check.sh).
    """

    def __init__(self, reference: Path | str | None = None, device_name: str | None = None,
                 pack: int = 1, device_type: str = "cuda"):
        if pack < 1:
            raise ValueError(f"the packing factor K (runs per GPU) must be >= 1, got {pack}")
        self.pack = pack  # K: training runs sharing one GPU
        self.measurement = None
        self.note = ""
        self.defaulted: set[str] = set()  # architectures costed from the defaults
        self.reshaped: set[str] = set()  # "arch CxHxW from CxHxW": another shape's row, scaled
        self.estimated_probes: set[str] = set()  # "probe on arch": from step equivalents
        self._candidates: list[dict] = []
        path = Path(reference) if reference else None
        if path is None or not path.exists():
            self.note = f"no reference file at {path}" if path else "no reference file given"
        else:
            data = json.loads(path.read_text())
            candidates = [m for m in data.get("measurements", []) if m.get("device_type") == device_type]
            if device_name:
                candidates = [m for m in candidates if device_name.lower() in m.get("device", "").lower()]
            self.measurement = self._newest_with_rows(candidates)
            if self.measurement is not None:  # pack rows of the same device only
                self._candidates = [m for m in candidates if m["device"] == self.measurement["device"]]
            else:
                kind = "GPU" if device_type == "cuda" else device_type.upper()
                self.note = f"{path} has no {kind} measurement" + (f" for {device_name!r}" if device_name else "")

    @staticmethod
    def _newest_with_rows(candidates: list[dict]) -> dict | None:
        with_steps = [m for m in candidates if m.get("train_step")]
        return sorted(with_steps, key=lambda m: m.get("date", ""))[-1] if with_steps else None

    @property
    def device(self) -> str:
        if self.measurement is None:
            return f"{DEFAULT_DEVICE} ({self.note})"
        m = self.measurement
        return f"{m['device']} (measured {m.get('date', '?')}, torch {m.get('torch', '?')}, mode {m.get('mode', '?')})"

    def _rows_for_shape(self, rows: list[dict], arch: str, shape) -> tuple[list[dict], float]:
        """The rows of ``shape`` (scale 1), else every row with the pixel-count scale."""
        if shape is None:
            return rows, 1.0
        shape = tuple(shape)
        same = [r for r in rows if _row_shape(r) in (None, shape)]  # a row without a shape fits any
        if same or not rows:
            return same, 1.0
        other = _row_shape(rows[0])
        self.reshaped.add(f"{arch} {_shape_text(shape)} from {_shape_text(other)}")
        kept = [r for r in rows if _row_shape(r) == other]
        return kept, (shape[1] * shape[2]) / (other[1] * other[2])

    def step_seconds(self, arch: str, batch_size: int, width: float, shape=None) -> float:
        """Seconds of one training step of ``arch`` (input ``shape`` (C, H, W) when known)."""
        scale_to = batch_size if arch == "fcn" else batch_size * width**2
        if self.measurement is not None:
            rows = [r for r in self.measurement.get("train_step", []) if r["arch"] == arch]
            rows, pixels = self._rows_for_shape(rows, arch, shape)
            if rows:
                def size(r):
                    return r["batch_size"] if arch == "fcn" else r["batch_size"] * r["width"] ** 2

                best = min(rows, key=lambda r: abs(size(r) - scale_to))
                return best["seconds_per_step"] * max(scale_to / size(best), 0.05) * pixels
        if arch not in DEFAULT_SECONDS_PER_STEP:  # pricing it as another network would mislead
            measured = {r["arch"] for r in (self.measurement or {}).get("train_step", [])}
            known = ", ".join(sorted(set(DEFAULT_SECONDS_PER_STEP) | measured))
            raise ValueError(f"cost model: unknown architecture {arch!r}: no measured training step and no "
                             f"default per-step cost; known: {known}")
        self.defaulted.add(arch)
        return DEFAULT_SECONDS_PER_STEP[arch] * max(scale_to / 128.0, 0.05)

    def run_seconds(self, config: dict) -> float:
        """Seconds of a run's training steps: one step each, plus the extra forward and
        backward passes of its gradient penalty on the steps that compute it."""
        from earlyphase.interventions.gradient_penalty import extra_step_equivalents

        step = self.step_seconds(config["arch"], config["batch_size"], config["width"], input_shape(config))
        return step * (config["total_steps"] + extra_step_equivalents(config.get("penalty"), config["total_steps"]))

    def _newest_with(self, key: str) -> dict | None:
        """The newest GPU measurement of the chosen device that has ``key`` rows."""
        rows = [m for m in self._candidates if m.get(key)]
        return sorted(rows, key=lambda m: m.get("date", ""))[-1] if rows else None

    def pack_factor(self, arch: str, k: int) -> tuple[float, bool]:
        """(f(K), measured): aggregate throughput of ``k`` runs per device over one run."""
        if k <= 1:
            return 1.0, True
        entry = self._newest_with("pack")
        rows = [r for r in (entry or {}).get("pack", []) if r["arch"] == arch and r["k"] <= k]
        if not rows:
            return 1.0, False
        return max(rows, key=lambda r: r["k"])["ratio_vs_k1"], True

    def startup_seconds(self, kind: str) -> float:
        entry = self._newest_with("pack")
        rows = [r for r in (entry or {}).get("pack", []) if r["k"] == 1 and r.get("startup_seconds")]
        if kind == "train" and rows:
            return sum(r["startup_seconds"] for r in rows) / len(rows)
        return DEFAULT_STARTUP_SECONDS[kind]

    def probe_seconds(self, arch: str, probe: str, settings: dict, points: int, batch_size: int,
                      width: float, shape=None) -> float:
        if self.measurement is not None:
            # a re-scaled sharpness probe costs what its quantity's measured probe costs
            measured_as = {probe, probe_registry.probe_class(probe).quantity}
            rows = [r for r in self.measurement.get("probe_point", [])
                    if r["arch"] == arch and r["probe"] in measured_as]
            rows, pixels = self._rows_for_shape(rows, arch, shape)
            if rows:
                row = min(rows, key=lambda r: abs(r["width"] - width))
                return row["seconds"] * points / max(row.get("points", points), 1) * pixels
        self.estimated_probes.add(f"{probe} on {arch}")
        return probe_step_equivalents(probe, settings, points) * self.step_seconds(arch, 128, width, shape)

    def warnings(self) -> list[str]:
        """What of the estimate is not a measurement of the chosen device (report lines)."""
        lines = []
        if self.defaulted and self.measurement is not None:
            lines.append(f"WARNING: no measured training step for {', '.join(sorted(self.defaulted))}: "
                         "the default per-step cost (earlyphase.operations.cost.DEFAULT_SECONDS_PER_STEP) "
                         "is used, not a measurement; add the workload to `python -m earlyphase.bench`")
        if self.reshaped:
            lines.append("WARNING: costed from a row of another input shape, scaled by the pixel count: "
                         + "; ".join(sorted(self.reshaped)))
        if self.estimated_probes and self.measurement is not None:
            lines.append("note: probe calls without a measured row, costed in training-step equivalents: "
                         + ", ".join(sorted(self.estimated_probes)))
        return lines


@dataclass
class Tally:
    runs: set = field(default_factory=set)
    steps: int = 0
    probe_records: int = 0
    probe_points: int = 0
    posthoc_probes: int = 0
    eval_images: int = 0
    # GPU-seconds, after packing (each GPU job's share of its device)
    seconds_train: float = 0.0
    seconds_probe: float = 0.0
    seconds_eval: float = 0.0
    seconds_overhead: float = 0.0  # job start-up and checkpoint copies
    checkpoints: int = 0
    checkpoint_bytes: int = 0
    gpu_jobs: int = 0
    longest_job_s: float = 0.0  # wall time of the longest job at the packing of the estimate
    unpacked_archs: set = field(default_factory=set)  # K > 1 but f(K) not measured: f = 1 used
    unknown_k_runs: int = 0
    unknown_eta_runs: int = 0  # runs at eta*/10, counted before the LR grid has chosen eta*
    jobs: int = 0  # phase-diagram jobs: not training runs, counted apart

    @property
    def hours(self) -> float:
        return (self.seconds_train + self.seconds_probe + self.seconds_eval + self.seconds_overhead) / 3600.0

    def wall_hours(self, gpus: int) -> float:
        """Wall-clock hours on ``gpus`` GPUs: the work spread over them, or the longest job."""
        return max(self.hours / max(gpus, 1), self.longest_job_s / 3600.0)


@functools.cache
def _parameter_count(arch: str, num_classes: int, in_channels: int, width: float, options: str) -> int:
    from earlyphase.models import build_model

    with torch.device("meta"):  # shapes only, no memory
        model = build_model(arch, num_classes, in_channels, width=width, **json.loads(options))
    return sum(p.numel() for p in model.parameters())


def checkpoint_bytes(c: dict) -> int:
    """Bytes of one checkpoint's tensors: fp32 weights and the optimizer's buffers (SGD
    momentum one per weight, Adam two)."""
    n = _parameter_count(c["arch"], c["num_classes"], c["in_channels"], c["width"],
                         json.dumps(c.get("model", {}), sort_keys=True))
    buffers = 2 if c["optimizer"] in ("adam", "adamw") else int(bool(c.get("momentum")))
    return 4 * n * (1 + buffers)


class Ledger:
    """One target's estimate while it is built: its :class:`Tally`, the step costs, and the
    runs and jobs already counted (work two run sets share is counted once).

    The artifacts' cost hooks (``Artifact.extra_costs``, called as ``hook(config, ledger)``)
    add their work through :meth:`add_run`, :meth:`add_probe_job`, :meth:`count_job` and
    :meth:`add_packed_job`, and may raise the counters of :class:`Tally` they report.
    """

    def __init__(self, config: dict, costs: StepCosts):
        self.config = config
        self.costs = costs
        self.tally = Tally()
        self._seen: set = set()

    def add_run(self, run, evaluated: bool) -> bool:
        """A training run (its steps, inline probes, checkpoints) and, if ``evaluated``, its
        ID/OOD evaluation; ``False`` (and nothing added) when the run was already counted."""
        if run.run_id in self._seen:
            return False
        self._seen.add(run.run_id)
        tally, costs, c = self.tally, self.costs, run.config
        tally.runs.add(run.run_id)
        tally.steps += c["total_steps"]
        train_s = costs.run_seconds(c)  # steps, and a gradient penalty's extra passes
        probe_s = 0.0
        probe = c.get("probe")
        if probe:
            records = min(probe["window"], c["total_steps"]) // probe["every"] + 1
            tally.probe_records += records
            tally.probe_points += records * probe["points"]
            per_record = sum(costs.probe_seconds(c["arch"], p, probe, probe["points"], probe["batch_size"],
                                                 c["width"], input_shape(c)) for p in probe["probes"])
            probe_s = records * per_record
        self._add_gpu_job(c["arch"], train_s, probe_s, checkpoints=lambda wall: self._checkpoints(c, wall))
        if evaluated:
            images = _eval_images(self.config, c["data"]["dataset"])
            tally.eval_images += images
            seconds = images / 128.0 * FORWARD * costs.step_seconds(c["arch"], 128, c["width"], input_shape(c))
            tally.seconds_eval += self._add_short_job(seconds)
        return True

    def add_probe_job(self, run_config: dict, settings: dict) -> None:
        """One job that probes a saved model of ``run_config`` with probe ``settings``
        (``probes``, ``points``, ``batch_size``, ...), not packed."""
        c = run_config
        self.tally.posthoc_probes += 1
        self.tally.probe_points += settings["points"]
        self.tally.seconds_probe += self._add_short_job(sum(
            self.costs.probe_seconds(c["arch"], p, settings, settings["points"], settings["batch_size"], c["width"])
            for p in settings["probes"]))

    def count_job(self, key) -> bool:
        """A job that is not a training run (a phase-diagram job), counted once per ``key``;
        whether it was new. Its GPU work, if any, is added with :meth:`add_packed_job`."""
        if key in self._seen:
            return False
        self._seen.add(key)
        self.tally.jobs += 1
        return True

    def add_packed_job(self, arch: str, train_s: float, probe_s: float) -> None:
        """GPU work of ``arch`` packed K to a device like a training run, without checkpoints:
        ``train_s`` seconds of steps and ``probe_s`` of measurements, solo."""
        self._add_gpu_job(arch, train_s, probe_s)

    def _checkpoints(self, c: dict, wall: float) -> tuple[int, int]:
        """(count, bytes each) of a run's checkpoints over its packed wall time."""
        training = self.config["training"]
        minutes, every = training.get("checkpoint_minutes"), training.get("checkpoint_every")
        count = (int(wall // (60.0 * minutes)) if minutes else 0) + ((c["total_steps"] - 1) // every if every else 0)
        return count, checkpoint_bytes(c)

    def _add_gpu_job(self, arch: str, train_s: float, probe_s: float, checkpoints=None) -> None:
        """One packed GPU job: its solo work divided by f(K), its start-up shared by the K slots
        of a device and its checkpoint copies (``checkpoints(wall) -> (count, bytes each)``)."""
        tally, costs = self.tally, self.costs
        k = costs.pack
        factor, measured = costs.pack_factor(arch, k)
        if not measured:
            tally.unpacked_archs.add(arch)
        wall = (train_s + probe_s) * k / factor
        n_checkpoints, size = checkpoints(wall) if checkpoints else (0, 0)
        copy_s = n_checkpoints * size / PINNED_COPY_BYTES_PER_S
        startup = costs.startup_seconds("train")
        tally.seconds_train += train_s / factor
        tally.seconds_probe += probe_s / factor
        tally.seconds_overhead += copy_s / factor + startup / k
        tally.checkpoints += n_checkpoints
        tally.checkpoint_bytes += n_checkpoints * size
        tally.gpu_jobs += 1
        tally.longest_job_s = max(tally.longest_job_s, startup + wall + copy_s * k / factor)

    def _add_short_job(self, seconds: float) -> float:
        """An evaluation or post-hoc probe job: not packed, start-up shared by the K slots."""
        startup = self.costs.startup_seconds("eval")
        self.tally.seconds_overhead += startup / self.costs.pack
        self.tally.gpu_jobs += 1
        self.tally.longest_job_s = max(self.tally.longest_job_s, startup + seconds)
        return seconds


def _eval_images(config: dict, dataset: str) -> int:
    from earlyphase.runs import ood_data_spec, test_set_size

    test = test_set_size(config, dataset)
    ood = ood_data_spec(config, dataset)
    severities = len(config["datasets"][dataset]["ood"]["severities"])
    return test * (1 + len(ood["corruptions"]) * severities)


def cost_parts(config: dict) -> dict[str, list[str]]:
    """Target -> what it costs: run sets (experiments) and ``+name`` cost hooks.

    Every artifact of the registry, every experiment by its own name, and ``all``: the
    union over the artifacts ``rule all`` builds (those whose section is configured).
    """
    from earlyphase.experiments import ARTIFACTS, EXPERIMENTS, enabled_artifacts, run_sets

    def parts(artifact) -> list[str]:
        return [*run_sets(artifact), *(f"+{extra}" for extra in artifact.extra_costs)]

    targets = {name: [name] for name in EXPERIMENTS}
    targets.update({name: parts(artifact) for name, artifact in ARTIFACTS.items()})
    targets["all"] = sorted({part for artifact in enabled_artifacts(config) for part in parts(artifact)})
    return targets


def estimate(config: dict, targets: list[str], costs: StepCosts) -> dict[str, Tally]:
    """One :class:`Tally` per target (an artifact, an experiment, or ``all``)."""
    from earlyphase.experiments import ARTIFACTS, EXPERIMENTS, experiment_runs

    known = cost_parts(config)
    # +name -> (the artifact declaring the hook, the hook)
    # An artifact that judges others' tables (the claims ledger: ``select_tables``) shares their
    # hooks; the artifact that owns the work decides whether its params section is there.
    hooks: dict = {}
    for artifact in sorted(ARTIFACTS.values(), key=lambda a: a.select_tables is not None):
        for name, hook in artifact.extra_costs.items():
            hooks.setdefault(f"+{name}", (artifact, hook))
    result = {}
    for target in targets:
        if target not in known:
            raise ValueError(f"unknown target {target!r}; known: {', '.join(sorted(known))}")
        ledger = Ledger(config, costs)
        # run sets before hooks: what a hook assumes may turn out to be a known run
        for part in sorted(known[target], key=lambda p: p.startswith("+")):
            if part in hooks:
                artifact, hook = hooks[part]
                if artifact.enabled(config):  # a hook reads its artifact's params section
                    hook(config, ledger)
            else:
                evaluated = EXPERIMENTS[part].EVALUATED
                for run, _ in experiment_runs(config, part):
                    ledger.add_run(run, evaluated)
        result[target] = ledger.tally
    return result


# The report fits a terminal or a review diff of 100 columns (issue 23).
REPORT_WIDTH = 100


def _wrapped(text: str, indent: str = "") -> list[str]:
    """``text`` broken at spaces into lines of at most :data:`REPORT_WIDTH`; continuations
    indented two more spaces."""
    return textwrap.wrap(text, REPORT_WIDTH, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_long_words=False, break_on_hyphens=False)


def format_report(tallies: dict[str, Tally], costs: StepCosts, gpus: int = 1) -> str:
    """Two tables of one row per target (what is counted, then the hours), each under 100
    columns: one row of all 13 numbers was 166 wide."""
    lines = _wrapped(f"per-step costs: {costs.device}")
    if costs.measurement is None:
        lines += _wrapped("WARNING: no GPU measurement found; using the documented default per-step costs "
                          "(earlyphase.operations.cost.DEFAULT_SECONDS_PER_STEP). Run `python -m earlyphase.bench "
                          "--reference-file bench/throughput_reference.json` on the target GPU.")
    for warning in costs.warnings():
        lines += _wrapped(warning)
    lines.append(f"packing: K = {costs.pack} training run(s) per GPU; wall clock on G = {gpus} GPU(s)")
    lines.append(f"start-up {costs.startup_seconds('train'):.0f} s per training job, "
                 f"{costs.startup_seconds('eval'):.0f} s per evaluation/post-hoc job")
    # One space between columns at least: a CPU measurement's hours outgrow the widths.
    counted = (f"{'target':<24} {'runs':>6} {'steps':>12} {'probe rec.':>10} {'probe pts':>12} {'post-hoc':>8} "
               f"{'eval imgs':>13} {'ckpts':>7}")
    lines += ["", counted, "-" * len(counted)]
    for target, t in tallies.items():
        lines.append(f"{target:<24} {len(t.runs):>6} {t.steps:>12,} {t.probe_records:>10,} {t.probe_points:>12,} "
                     f"{t.posthoc_probes:>8} {t.eval_images:>13,} {t.checkpoints:>7,}")
        if t.unknown_k_runs:
            lines += _wrapped(f"includes {t.unknown_k_runs} GU runs at the stabilization-chosen k (known after "
                              "the head-only probes; shared runs make it fewer)", "  ")
        if t.unknown_eta_runs:
            lines += _wrapped(f"includes {t.unknown_eta_runs} runs at eta*/10 (eta* known after the LR grid; "
                              "counted at the reference lr)", "  ")
        if t.jobs:
            lines += _wrapped(f"plus {t.jobs} phase-diagram jobs (not training runs; the FCN jobs' steps and "
                              "sharpness measurements are in the GPU-hours, uv-model jobs run on the CPU)", "  ")
    hours = (f"{'target':<24} {'GPU-h train':>12} {'probes':>9} {'eval':>8} {'start+ckpt':>11} {'total':>9} "
             f"{f'wall h (G={gpus})':>15}")
    lines += ["", hours, "-" * len(hours)]
    for target, t in tallies.items():
        lines.append(f"{target:<24} {t.seconds_train / 3600:>12.1f} {t.seconds_probe / 3600:>9.1f} "
                     f"{t.seconds_eval / 3600:>8.1f} {t.seconds_overhead / 3600:>11.1f} {t.hours:>9.1f} "
                     f"{t.wall_hours(gpus):>15.1f}")
        if t.unpacked_archs:
            lines += _wrapped(f"packing factor for K = {costs.pack} not measured for "
                              f"{', '.join(sorted(t.unpacked_archs))}: no gain assumed (f = 1); run "
                              "`python -m earlyphase.bench --pack ...`", "  ")
    return "\n".join(lines) + "\n"


def main(args) -> int:
    from earlyphase.params import load_params, validate_params

    # The schema layer needs jsonschema, which a GPU image may lack: the cost model only reads.
    if getattr(args, "config_json", None):
        config = json.loads(args.config_json)
        validate_params(config, schema_required=False)
    else:
        config = load_params(args.params, *args.overlay, schema_required=False)
    if args.gpus < 1:
        raise ValueError(f"--gpus must be >= 1, got {args.gpus}")
    pack = args.pack if args.pack is not None else int(config.get("gpu_slots", 1))
    device_type = getattr(args, "measured_on", None) or "cuda"
    if args.device_name and "cpu" in args.device_name.lower():  # `--device-name CPU`: the CPU's rows
        device_type = "cpu"
    costs = StepCosts(args.reference, args.device_name, pack=pack, device_type=device_type)
    if args.targets:
        targets = args.targets
    else:
        from earlyphase.experiments import enabled_artifacts

        targets = [artifact.name for artifact in enabled_artifacts(config)] + ["all"]
    text = format_report(estimate(config, targets, costs), costs, gpus=args.gpus)
    print(text, end="")
    if args.out:
        from earlyphase.operations.atomic import atomic_path

        with atomic_path(args.out) as tmp:
            Path(tmp).write_text(text)
    return 0
