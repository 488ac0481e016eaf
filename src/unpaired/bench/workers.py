"""One process per benchmarked mode, each driven in turn by the benchmark's own process.

Why processes: peak memory belongs to a process (its resident set, or the CUDA caching
allocator's peak), so each mode's figure must come from a process that ran that mode alone; and
one mode's compiled code, autotuning caches or thread settings cannot leak into another's. The
modes still run side by side: the parent asks each worker in turn for a window of steps
(:func:`unpaired.bench.measure.alternate_rounds`), and a worker waiting for its turn is idle.

A worker builds a :class:`Runner` and hands it a :class:`StepControl`. The runner calls
:meth:`StepControl.before_step` and :meth:`StepControl.after_step` around every step it takes, in
its own loop or from a Lightning callback; between windows ``after_step`` waits for the parent's
next command.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
import traceback
from collections.abc import Callable, Mapping
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Protocol

import torch

from unpaired.bench.measure import (
    FlopCount,
    Throughput,
    alternate_rounds,
    peak_memory,
    synchronize,
)
from unpaired.cli.screen import quiet_third_parties
from unpaired.errors import UnpairedError


# ----------------------------------------------------------------------------- the messages
@dataclass(frozen=True)
class Run:
    """Take ``steps`` steps (counting their FLOPs if asked) and answer with a :class:`Window`."""

    steps: int
    count_flops: bool = False


@dataclass(frozen=True)
class Report:
    """Answer with the worker's figures that are not timings (peak memory, threads)."""


@dataclass(frozen=True)
class Stop:
    """Finish the runner and exit."""


@dataclass(frozen=True)
class Window:
    """What a worker measured during one :class:`Run`: the seconds spent before each step (from
    the command, or the end of the previous step, to the step's start: in a training loop,
    waiting for the next batch), and the steps' FLOPs if they were counted."""

    data_wait_seconds: float
    flops: int | None


@dataclass(frozen=True)
class Failure:
    """The worker stopped with an error: the exception if the user can act on it, else the
    traceback."""

    error: UnpairedError | None
    traceback: str


# ------------------------------------------------------------------------- the worker's side
class StepControl:
    """Paces a runner by the parent's commands and measures around its steps."""

    def __init__(self, connection: Connection, device: torch.device) -> None:
        self._connection = connection
        self._device = device
        self._remaining = 0
        self._wait = 0.0
        self._last_end = 0.0
        self._flops: FlopCount | None = None
        self._flop_total = 0
        self.stopped = False

    def next_window(self) -> bool:
        """Wait for a :class:`Run` (answering reports meanwhile); False when told to stop."""
        while True:
            command = self._connection.recv()
            if isinstance(command, Stop):
                self.stopped = True
                return False
            if isinstance(command, Report):
                memory, kind = peak_memory(self._device)
                threads = torch.get_num_threads()
                self._connection.send(
                    {"peak_memory_bytes": memory, "memory_kind": kind, "threads": threads}
                )
                continue
            self._remaining = command.steps
            self._flops = FlopCount() if command.count_flops else None
            self._flop_total = 0
            self._wait = 0.0
            self._last_end = time.perf_counter()
            return True

    def before_step(self) -> None:
        self._wait += time.perf_counter() - self._last_end
        if self._flops is not None:
            self._flops.start()

    def after_step(self) -> bool:
        """Close a step; at the end of a window report it and wait for the next one. Returns
        whether the runner should go on."""
        if self._flops is not None:
            self._flop_total += self._flops.stop()
        self._remaining -= 1
        if self._remaining > 0:
            self._last_end = time.perf_counter()
            return True
        synchronize(self._device)
        flops = self._flop_total if self._flops is not None else None
        self._connection.send(Window(self._wait, flops))
        return self.next_window()


class Runner(Protocol):
    """A benchmarked mode, built inside its worker process."""

    device: torch.device

    def serve(self, control: StepControl) -> None:
        """Take steps while ``control`` says so, calling its ``before_step``/``after_step``
        around each; :meth:`StepControl.next_window` first."""


def serve_steps(control: StepControl, step: Callable[[], object]) -> None:
    """The loop of a runner that owns its loop: ``step()`` while ``control`` says so."""
    go_on = control.next_window()
    while go_on:
        control.before_step()
        step()
        go_on = control.after_step()


def _worker_main(
    build: Callable[[Any], Runner], spec: Any, threads: int | None, connection: Connection
) -> None:
    for name in ("lightning.pytorch", "lightning.fabric"):  # no banners between the figures
        logging.getLogger(name).setLevel(logging.WARNING)
    quiet_third_parties()
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        runner = build(spec)
        connection.send("ready")
        control = StepControl(connection, runner.device)
        runner.serve(control)
        if not control.stopped:
            raise RuntimeError("the mode's loop ended before the benchmark did")
    except Exception as error:  # reported to the parent, which raises it
        user_error = error if isinstance(error, UnpairedError) else None
        connection.send(Failure(user_error, traceback.format_exc()))
    finally:
        connection.close()


# ------------------------------------------------------------------------- the parent's side
#: Imported once by the fork server, so that every worker starts with them loaded.
PRELOAD = ["unpaired.bench.train", "unpaired.bench.infer"]


def _worker_context() -> multiprocessing.context.BaseContext:
    """Fresh processes forked from a server that has imported torch and Lightning once but never
    touched CUDA or a thread pool (a plain fork of the benchmark could inherit both); spawned
    where there is no fork server (Windows)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


@dataclass
class Worker:
    """A worker process running one mode, and the parent's end of its pipe."""

    name: str
    process: multiprocessing.process.BaseProcess
    connection: Connection
    alive: bool = field(default=True)

    @classmethod
    def start(
        cls, name: str, build: Callable[[Any], Runner], spec: Any, threads: int | None
    ) -> Worker:
        context = _worker_context()
        parent_end, child_end = context.Pipe()
        process = context.Process(
            target=_worker_main, args=(build, spec, threads, child_end), name=f"bench-{name}"
        )
        process.start()
        child_end.close()
        return cls(name, process, parent_end)

    def wait_ready(self) -> None:
        self._answer()

    def run(self, steps: int, count_flops: bool = False) -> Window:
        self.connection.send(Run(steps, count_flops))
        return self._answer()

    def report(self) -> dict[str, Any]:
        self.connection.send(Report())
        return self._answer()

    def stop(self) -> None:
        if self.alive:
            with suppress(BrokenPipeError, OSError):  # the worker may be gone already
                self.connection.send(Stop())
        self.process.join(timeout=60)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.alive = False

    def _answer(self) -> Any:
        try:
            answer = self.connection.recv()
        except EOFError:
            self.alive = False
            raise RuntimeError(
                f"benchmark mode {self.name!r} ended without an answer (exit code "
                f"{self.process.exitcode}; out of memory?)"
            ) from None
        if isinstance(answer, Failure):
            self.alive = False
            if answer.error is not None:
                raise answer.error
            raise RuntimeError(f"benchmark mode {self.name!r} failed:\n{answer.traceback}")
        return answer


# ------------------------------------------------------------------------------ the benchmark
@dataclass(frozen=True)
class ModeSpec:
    """How to build one mode in its worker (``build(spec)`` returns its :class:`Runner`), and
    how many images one of its steps processes."""

    build: Callable[[Any], Runner]
    spec: Any
    images_per_step: int


@dataclass(frozen=True)
class ModeFigures:
    """The figures of one mode. A step is one training iteration, or one batch translated."""

    name: str
    steps_per_second: Throughput
    images_per_step: int
    steps_per_window: int
    first_step_seconds: float
    flops_per_step: int
    data_wait_fraction: float
    peak_memory_bytes: int
    memory_kind: str
    threads: int


def compare_modes(
    modes: Mapping[str, ModeSpec],
    warmup: int = 2,
    windows: int = 5,
    window_seconds: float = 5.0,
    threads: int | None = None,
) -> list[ModeFigures]:
    """Time every mode in its own worker process, side by side.

    Each worker takes ``warmup`` untimed steps (the first, timed on its own, includes compiling
    and autotuning), then one step whose FLOPs are counted; then ``windows`` rounds give each
    mode in turn a window of as many steps as fill ``window_seconds`` at its warmed-up speed (one
    at least). ``threads`` sets torch's thread count in every worker (torch's default if None).
    """
    if warmup < 1 or windows < 1 or window_seconds <= 0:
        raise ValueError("warmup and windows must be >= 1 and window_seconds > 0")
    with ExitStack() as stack:
        workers = {}
        for name, mode in modes.items():
            workers[name] = Worker.start(name, mode.build, mode.spec, threads)
            stack.callback(workers[name].stop)
        for worker in workers.values():
            worker.wait_ready()
        first_step, steps_per_window, flops = {}, {}, {}
        for name, worker in workers.items():
            first_step[name] = _timed(worker, 1)
            step_seconds = first_step[name]
            for _ in range(warmup - 1):
                step_seconds = _timed(worker, 1)
            steps_per_window[name] = max(1, round(window_seconds / step_seconds))
            flops[name] = worker.run(1, count_flops=True).flops or 0
        waits: dict[str, float] = {name: 0.0 for name in workers}

        def window(name: str) -> Callable[[], float]:
            def run() -> float:
                waits[name] += workers[name].run(steps_per_window[name]).data_wait_seconds
                return steps_per_window[name]

            return run

        rates = alternate_rounds({name: window(name) for name in workers}, windows)
        reports = {name: worker.report() for name, worker in workers.items()}
    figures = []
    for name, mode_rates in rates.items():
        timed_seconds = sum(steps_per_window[name] / rate for rate in mode_rates)
        figures.append(
            ModeFigures(
                name=name,
                steps_per_second=Throughput.of(name, mode_rates),
                images_per_step=modes[name].images_per_step,
                steps_per_window=steps_per_window[name],
                first_step_seconds=first_step[name],
                flops_per_step=flops[name],
                data_wait_fraction=waits[name] / timed_seconds,
                peak_memory_bytes=reports[name]["peak_memory_bytes"],
                memory_kind=reports[name]["memory_kind"],
                threads=reports[name]["threads"],
            )
        )
    return figures


def _timed(worker: Worker, steps: int) -> float:
    start = time.perf_counter()
    worker.run(steps)
    return time.perf_counter() - start
