"""Progress of a training run while it runs: a small file for ``earlyphase status`` and a
progress bar in the run's log.

At every log interval the loop calls :meth:`RunProgress.logged`; it has
``<run_dir>/progress.json`` rewritten atomically (step i of N, the last logged loss, the step
rate measured in this process, and which process on which host is training), so a reader
never sees half a file. ``earlyphase status`` (:mod:`earlyphase.records.status`) reads it.
The write (with its fsync, milliseconds on a busy disk against a few ms of GPU work per
step) happens in a background thread (:class:`LatestWriter`): the loop only hands over the
record, and a record still waiting when a newer one comes is replaced by it. The first
record and the last (:meth:`RunProgress.close`) are on disk when the call returns.

The bar: on a terminal a tqdm bar; in a log file (a Snakemake job sends stderr to the rule's
log) a tqdm bar redraws with carriage returns hundreds of times a second, so there one line
per ``line_every`` seconds is printed instead: ``step 120/7800 (1.5%) loss 2.301 12.3 step/s
ETA 10m32s``.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
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


class LatestWriter:
    """Writes the newest record handed to :meth:`submit` to ``path`` in a daemon thread.

    Older records that were never written are dropped: only the latest state matters. An
    error of the thread is raised at the next :meth:`submit` or :meth:`flush`.
    """

    def __init__(self, path: Path):
        self.path = path
        self._pending: dict | None = None
        self._busy = False
        self._error: BaseException | None = None
        self._stopping = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._work, daemon=True, name="earlyphase-progress")
        self._thread.start()

    def submit(self, record: dict) -> None:
        with self._changed:
            self._raise()
            if self._stopping:  # the thread has ended: write it here
                write_json(self.path, record)
                return
            self._pending = record
            self._changed.notify_all()

    def flush(self) -> None:
        """Block until every submitted record is written (the last one is on disk)."""
        with self._changed:
            self._changed.wait_for(lambda: self._pending is None and not self._busy)
            self._raise()

    def stop(self) -> None:
        """Write what is pending, then end the thread."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise RuntimeError(f"writing {self.path} failed: {error}") from error

    def _work(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending is not None or self._stopping)
                if self._pending is None:
                    return  # stopping, nothing left to write
                record, self._pending, self._busy = self._pending, None, True
            try:
                write_json(self.path, record)
            except BaseException as err:  # noqa: BLE001 - handed to the training thread
                error = err
            else:
                error = None
            with self._changed:
                self._error = self._error or error
                self._busy = False
                self._changed.notify_all()


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
        self._writer = LatestWriter(self.path)
        self._write("running")
        self.flush()

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

    def flush(self) -> None:
        """Wait until the progress file holds the latest record."""
        self._writer.flush()

    def close(self, state: str) -> None:
        """The loop ended (``completed``, ``diverged``, ``stopped`` or ``failed``)."""
        self._write(state)
        self._writer.stop()
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
        self._writer.submit({
            "state": state, "step": self.step, "total_steps": self.total, "loss": self.loss,
            "steps_per_s": self.steps_per_second(), "started": self.started, "updated": time.time(),
            "pid": os.getpid(), "host": socket.gethostname(),
        })
