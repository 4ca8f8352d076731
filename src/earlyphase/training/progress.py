"""Progress of a training run while it runs: a small file for ``earlyphase status`` and a
progress bar in the run's log.

At every log interval the loop calls :meth:`RunProgress.logged`; it rewrites
``<run_dir>/progress.json`` atomically (step i of N, the last logged loss, the step rate
measured in this process, and which process on which host is training), so a reader never
sees half a file. ``earlyphase status`` (:mod:`earlyphase.records.status`) reads it.

The bar: on a terminal a tqdm bar; in a log file (a Snakemake job sends stderr to the rule's
log) a tqdm bar redraws with carriage returns hundreds of times a second, so there one line
per ``line_every`` seconds is printed instead: ``step 120/7800 (1.5%) loss 2.301 12.3 step/s
ETA 10m32s``.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

from earlyphase.operations.atomic import write_json

PROGRESS_NAME = "progress.json"


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class RunProgress:
    """Progress file and bar of one training process (steps ``start_step`` .. ``total``)."""

    def __init__(self, run_dir: Path | str, total: int, start_step: int = 0, show: bool = True,
                 line_every: float = 30.0, stream=None):
        self.path = Path(run_dir) / PROGRESS_NAME
        self.label = "/".join(Path(run_dir).parts[-3:])  # <setup>/<variant>/seed<s>, the run id
        self.total, self.start_step, self.step = total, start_step, start_step
        self.line_every = line_every
        self.stream = stream or sys.stderr
        self.started = time.time()
        self.loss: float | None = None
        self._last_line = float("-inf")
        self.bar = None
        if show and self.stream.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=start_step, desc=self.label, unit="step",
                            dynamic_ncols=True, file=self.stream)
        self.show = show
        self._write("running")

    def steps_per_second(self) -> float | None:
        elapsed = time.time() - self.started
        done = self.step - self.start_step
        return done / elapsed if done > 0 and elapsed > 0 else None

    def advance(self) -> None:
        """One optimizer step done."""
        self.step += 1
        if self.bar is not None:
            self.bar.update(1)

    def logged(self, step: int, loss: float) -> None:
        """A log interval: record the loss, rewrite the progress file, maybe print a line."""
        self.step, self.loss = step, loss
        self._write("running")
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{loss:.3f}")
        elif self.show and time.monotonic() - self._last_line >= self.line_every:
            self._print_line()

    def close(self, state: str) -> None:
        """The loop ended (``completed`` or ``diverged``)."""
        self._write(state)
        if self.bar is not None:
            self.bar.close()
        elif self.show:
            self._print_line(state)

    def _print_line(self, state: str = "") -> None:
        self._last_line = time.monotonic()
        rate = self.steps_per_second()
        parts = [f"step {self.step}/{self.total} ({100 * self.step / max(self.total, 1):.1f}%)"]
        if self.loss is not None:
            parts.append(f"loss {self.loss:.4g}")
        if rate:
            parts.append(f"{rate:.3g} step/s")
            if not state and self.step < self.total:
                parts.append(f"ETA {format_duration((self.total - self.step) / rate)}")
        if state:
            parts.append(state)
        print(f"{self.label}: " + " ".join(parts), file=self.stream, flush=True)

    def _write(self, state: str) -> None:
        write_json(self.path, {
            "state": state, "step": self.step, "total_steps": self.total, "loss": self.loss,
            "steps_per_s": self.steps_per_second(), "started": self.started, "updated": time.time(),
            "pid": os.getpid(), "host": socket.gethostname(),
        })
