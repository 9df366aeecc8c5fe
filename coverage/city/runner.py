"""Where independent work runs: in this process, or on a ``dask.distributed`` cluster.

A :class:`Runner` maps a function over items (districts, scenarios, blocks of
Dijkstra sources) and returns the results in item order, whatever order they
finish in, so a run on any number of workers gives the same answer as a serial
one. Large shared inputs (the road network and its index) are scattered once to
every worker with ``broadcast=True`` and passed to tasks as futures, never
pickled per task; arrays of geometries travel as one WKB array (:func:`dumps`).

Placement: tasks are submitted longest first (a ``cost`` per item), one per worker
thread, each new one as soon as a task finishes (the scheduler gives it to the worker
that has just freed up), so that the largest district starts at once and no worker
idles while another holds a queue. Tasks carry no worker restrictions: a restricted
task whose worker dies can be left unscheduled for good (dask/distributed#7346).
:attr:`Runner.stats` records, per map, where the wall time went.

Failures: a task whose worker dies is re-run by the scheduler (``allowed-failures``);
if the scheduler gives up (``KilledWorker``) the runner resubmits it up to
``retries`` times. Every worker lost during a map and every resubmission is written
to :attr:`Runner.events`, which the city summary reports. A task that still fails
raises: a district is never silently dropped.
"""

from __future__ import annotations

import io
import itertools
import os
import pickle
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import shapely
from tqdm.auto import tqdm

from coverage.errors import InputError

__all__ = ["Runner", "dumps", "open_runner"]


def _peak_rss_mb() -> float:
    """Peak resident memory of this process, MB.

    On Linux, ``VmHWM`` of ``/proc/self/status``: ``ru_maxrss`` is carried over from the
    parent across fork and exec, so a spawned worker would report its parent's peak when
    that is larger (measured: every worker "peaked" at the benchmark process's 639.6 MB).
    """
    import resource

    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


@dataclass
class Runner:
    """Runs mapped tasks serially (``client=None``) or on a Dask cluster.

    Attributes
    ----------
    client : distributed.Client or None
    cluster : distributed.LocalCluster or None
        The cluster this runner started (closed by :meth:`close`), None for an
        existing scheduler or a serial run.
    retries : int
        Resubmissions of a task whose workers keep dying.
    size : int
        Workers of the ``LocalCluster`` this runner started (kept at that size).
    poll_s, no_worker_timeout_s : float
        While a map waits, the workers are checked every ``poll_s`` seconds; with none
        for ``no_worker_timeout_s`` seconds the map stops with an error.
    progress : bool
        Show progress on stderr: a tqdm bar on a terminal, one line per finished
        task otherwise.
    events : list of str
        Worker deaths and retries, in the order they were seen.
    stats : list of dict
        One entry per :meth:`map`: where its wall time went (see :meth:`map`).
    """

    client: Any = None
    cluster: Any = None
    retries: int = 2
    progress: bool = True
    size: int = 0
    poll_s: float = 5.0
    no_worker_timeout_s: float = 300.0
    events: list[str] = field(default_factory=list)
    stats: list[dict] = field(default_factory=list)
    _tokens: list[str] = field(default_factory=list, repr=False)
    _shared: dict = field(default_factory=dict, repr=False)
    _share_s: float = field(default=0.0, repr=False)

    @property
    def workers(self) -> int:
        """Number of workers (1 for a serial run)."""
        if self.client is None:
            return 1
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    @property
    def description(self) -> str:
        """``"serial"``, ``"LocalCluster, 2 workers"`` or ``"scheduler tcp://..., N workers"``."""
        if self.client is None:
            return "serial (in process)"
        kind = "LocalCluster" if self.cluster is not None else f"scheduler {self.client.scheduler.address}"
        return f"{kind}, {self.workers} workers"

    def share(self, obj: Any, *, lazy: bool = False, like: Any = None, part: str = "") -> Any:
        """Send ``obj`` once to every worker; pass the result to :meth:`map` as ``shared``.

        The object travels as one pickled byte string (``broadcast=True``) and is unpickled
        once per worker process, then reused by every task there. Measured on the
        generated 15k city: Dask's own serialisation of the network took 50 s on a loaded
        2-core machine, the byte string under 1 s. Sharing the same object again (the
        siting models after the city assessment) reuses the first copy.

        Parameters
        ----------
        obj : object
        lazy : bool
            Unpickle it on a worker only when a task asks for it: the task receives a
            handle whose ``value()`` returns the object (also in a serial run), for data
            that only some tasks need.
        like, part : object, str
            ``obj`` is ``part`` of ``like`` (e.g. ``"without graph"`` of a network):
            sharing the same part of the same object again reuses the first copy.
            Default: ``obj`` itself.
        """
        like = obj if like is None else like
        key = (id(like), part, lazy)
        if key in self._shared:
            return self._shared[key][1]
        start = time.perf_counter()
        if self.client is None:
            ref = _Local(obj) if lazy else obj
        else:
            payload = _Shared(uuid.uuid4().hex, dumps(obj), lazy)
            self._tokens.append(payload.token)
            ref = self.client.scatter(payload, broadcast=True, hash=False)
        # Keep the key's object alive with its copy, so that its id is not reused.
        self._shared[key] = ((obj, like), ref)
        self._share_s += time.perf_counter() - start
        return ref

    def unshare(self) -> None:
        """Forget every shared object: the next :meth:`share` sends it again (to time a
        run from scratch on a cluster that is already up)."""
        if self.client is not None and self._tokens:
            self.client.run(_forget, list(self._tokens))
        self._tokens.clear()
        self._shared.clear()

    def shares_folder(self, folder: str | Path) -> bool:
        """True when every worker sees ``folder`` as this process does (always true for a
        serial run or a LocalCluster on this machine; checked with a probe file for an
        existing scheduler, whose workers may run on other machines)."""
        if self.client is None:
            return True
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex
        probe = folder / f".probe-{token}"
        probe.write_text(token)
        try:
            seen = self.client.run(_sees, str(probe), token)
        finally:
            probe.unlink(missing_ok=True)
        return bool(seen) and all(seen.values())

    def _worker_addresses(self) -> set[str]:
        return set(self.client.scheduler_info(n_workers=-1)["workers"])

    def map(
        self,
        fn: Callable[..., Any],
        items: Sequence[Any],
        labels: Sequence[str],
        *,
        desc: str,
        shared: dict[str, Any] | None = None,
        cost: Sequence[float] | None = None,
    ) -> list[Any]:
        """``[fn(item, **shared) for item in items]``, distributed when there is a client.

        Parameters
        ----------
        fn : callable
            A module-level function (workers import it by name).
        items : sequence
            One task each.
        labels : sequence of str
            Planner-facing name of each task (a district name), for progress and events.
        desc : str
            What is being done, e.g. ``"districts"``.
        shared : dict, optional
            Keyword arguments common to every task; values from :meth:`share`.
        cost : sequence of float, optional
            Expected work of each task (e.g. road length in a district). On Dask the
            tasks start in decreasing cost, and a new one is submitted only when a
            worker is free (greedy longest-first): the biggest district does not start
            last on a busy worker while the other idles. Scheduling only; results come
            back in item order.
        """
        shared = shared or {}
        bar = self._bar(len(items), desc)
        start = time.perf_counter()
        task_s: list[float] = []
        task_cpu_s: list[float] = []
        if self.client is None:
            out = []
            for item, label in zip(items, labels, strict=True):
                t, cpu = time.perf_counter(), time.process_time()
                out.append(fn(item, **shared))
                task_s.append(time.perf_counter() - t)
                task_cpu_s.append(time.process_time() - cpu)
                bar(label)
            self._record(desc, start, task_s, task_cpu_s, 1, 0, 0.0)
            return out
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        self._restore_size(desc)
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        before = set(info)
        tag = uuid.uuid4().hex[:8]

        def submit(k: int, attempt: int):
            # No worker restriction, not even a loose one: a task restricted to a worker
            # that dies before it starts stays in "no-worker" for good when no worker is
            # running at that moment (the scheduler re-checks restrictions, not their
            # looseness, when workers join: dask/distributed#7346), which hung a run
            # whose worker was killed. With one task in flight per worker thread the
            # scheduler puts each new task on the worker that has just freed up anyway
            # (the only idle one holding the shared inputs).
            return self.client.submit(_call, fn, items[k], **shared, pure=False,
                                      key=f"{desc}-{k}-{attempt}-{tag}")

        order = (list(range(len(items))) if cost is None else
                 sorted(range(len(items)), key=lambda k: (-float(cost[k]), k)))
        waiting = iter(order)
        # One task in flight per worker thread, submitted by this loop rather than all at
        # once (the scheduler may queue two on one worker while the other idles): the next,
        # largest remaining, task is submitted when one finishes. Tasks last seconds, a
        # submission milliseconds.
        in_flight = max(1, sum(max(1, int(w.get("nthreads", 1))) for w in info.values()))
        futures = {}
        for k in itertools.islice(waiting, in_flight):
            futures[submit(k, 0)] = (k, 0)
        results: dict[int, Any] = {}
        unpickle_s, result_bytes = 0.0, 0
        idle_since: float | None = None
        # Results are fetched by as_completed in the background: a result lost with its
        # worker before it was fetched is recomputed by the scheduler while this loop
        # keeps watching the workers (a blocking fut.result() waited for ever there when
        # the cluster had no worker left to recompute it).
        pending = as_completed(list(futures), loop=self.client.loop, with_results=True,
                               raise_errors=False)
        last_done = time.monotonic()
        while futures:
            # Wait for the next task, looking up every poll_s seconds, so that a cluster
            # left with no worker is noticed (and a LocalCluster's dropped workers are
            # started again) instead of waited on for ever.
            done = pending.next_batch(block=False)
            if not done:
                with pending.thread_condition:
                    pending.thread_condition.wait(timeout=0.1)
                if time.monotonic() - last_done > self.poll_s:
                    idle_since = self._mind_workers(
                        desc, [labels[k] for k, _ in futures.values()], idle_since)
                    last_done = time.monotonic()
                continue
            idle_since, last_done = None, time.monotonic()
            for fut, result in sorted(done, key=lambda fr: futures[fr[0]]):
                k, attempt = futures.pop(fut)
                nxt = next(waiting, None)
                if nxt is not None:
                    new = submit(nxt, 0)
                    futures[new] = (nxt, 0)
                    pending.add(new)
                if fut.status == "error" and isinstance(result[1], KilledWorker):
                    if attempt >= self.retries:
                        raise RuntimeError(
                            f"{desc} {labels[k]!r}: its worker died {attempt + 1} times; "
                            "the run stops rather than leave it out.") from result[1]
                    self.events.append(f"{desc} {labels[k]!r}: worker died, resubmitted "
                                       f"(attempt {attempt + 2})")
                    new = submit(k, attempt + 1)
                    futures[new] = (k, attempt + 1)
                    pending.add(new)
                    continue
                if fut.status == "error":
                    raise result[1].with_traceback(result[2])
                if isinstance(result, BaseException):  # cancelled
                    raise result
                seconds, cpu_s, payload = result
                task_cpu_s.append(cpu_s)
                t = time.perf_counter()
                results[k] = pickle.loads(payload)
                unpickle_s += time.perf_counter() - t
                task_s.append(seconds)
                result_bytes += len(payload)
                bar(labels[k])
        self._record(desc, start, task_s, task_cpu_s, in_flight, result_bytes, unpickle_s)
        lost = sorted(before - self._worker_addresses())
        for addr in lost:
            self.events.append(f"{desc}: worker {addr} died during the run; the scheduler "
                               "re-ran its tasks on the other workers")
        return [results[k] for k in range(len(items))]

    def _restore_size(self, desc: str) -> None:
        """Start again the workers this runner's ``LocalCluster`` has dropped: it forgets
        a worker that died and was not back within Dask's ``lost-worker-timeout`` (a
        worker killed twice in a row, e.g. by the memory limit)."""
        if self.cluster is not None and len(self.cluster.workers) < self.size:
            self.events.append(
                f"{desc}: the LocalCluster had dropped {self.size - len(self.cluster.workers)} "
                "worker(s) that died and did not come back in time; started again")
            self.cluster.scale(self.size)

    def _mind_workers(self, desc: str, running: list[str], idle_since: float | None
                      ) -> float | None:
        """Called while no task has finished for :attr:`poll_s` seconds.

        This runner's ``LocalCluster`` is brought back to its size. With no worker at all
        for :attr:`no_worker_timeout_s` seconds (an existing cluster whose workers are
        gone) the run stops with the districts still in flight named, rather than wait
        for ever. Returns when the cluster was first seen with no worker (None: it has
        workers).
        """
        self._restore_size(desc)
        if self._worker_addresses():
            return None
        now = time.monotonic()
        if idle_since is None:
            return now
        if now - idle_since > self.no_worker_timeout_s:
            if self.cluster is not None:
                where, fix = "the LocalCluster", "Run again, with fewer workers if memory ran out."
            else:
                where = f"the scheduler at {self.client.scheduler.address}"
                fix = "Start workers for it (dask worker ADDRESS) and run again."
            raise RuntimeError(
                f"{desc}: {where} has had no worker for {now - idle_since:.0f} s while "
                f"{', '.join(repr(x) for x in running)} waited; the run stops rather than "
                f"leave them out. {fix}")
        return idle_since

    def _record(self, desc: str, start: float, task_s: list[float], task_cpu_s: list[float],
                workers: int,
                result_bytes: int, unpickle_s: float) -> None:
        """Where a map's wall time went: ``busy_share`` is the task time over wall time
        times workers (1.0: every worker computed all the time); ``bound_s`` the best
        possible wall time for these tasks on these workers (the longest task, or the
        total shared evenly); the rest is scheduling, transfer and idle time. ``share_s``:
        time spent before the map pickling and scattering its shared objects.
        ``task_cpu_s_sum``: CPU seconds of the tasks' processes (other jobs on the machine
        barely change it, unlike wall time)."""
        wall = time.perf_counter() - start
        total = float(sum(task_s))
        bound = max(max(task_s, default=0.0), total / workers)
        self.stats.append({
            "desc": desc, "tasks": len(task_s), "workers": workers, "wall_s": wall,
            "task_s_sum": total, "task_s_max": max(task_s, default=0.0), "bound_s": bound,
            "task_cpu_s_sum": float(sum(task_cpu_s)),
            "busy_share": total / (wall * workers) if wall > 0 else 1.0,
            "result_mb": result_bytes / 2**20, "unpickle_s": unpickle_s,
            "share_s": self._share_s,
        })
        self._share_s = 0.0

    def _bar(self, total: int, desc: str) -> Callable[[str], None]:
        if not self.progress:
            return lambda label: None
        if sys.stderr.isatty():
            bar = tqdm(total=total, desc=desc, unit="task", leave=False)

            def tick(label: str) -> None:
                bar.set_postfix_str(label)
                bar.update()
                if bar.n == total:
                    bar.close()
            return tick
        done = [0]
        start = time.perf_counter()

        def line(label: str) -> None:
            done[0] += 1
            print(f"{desc}: {done[0]}/{total} {label} done "
                  f"({time.perf_counter() - start:.1f} s)", file=sys.stderr, flush=True)
        return line

    def worker_peak_memory_mb(self) -> dict[str, float]:
        """Peak resident memory of each worker process (or this process), MB."""
        if self.client is None:
            return {"local": _peak_rss_mb()}
        return {k: float(v) for k, v in self.client.run(_peak_rss_mb).items()}

    def close(self) -> None:
        """Close the client, and the LocalCluster if this runner started it; workers of
        an existing cluster forget the objects this runner shared."""
        if self.client is not None:
            if self.cluster is None and self._tokens:
                self.client.run(_forget, list(self._tokens))
            self.client.close()
        self._shared.clear()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Shared:
    """A pickled object sent once to every worker and unpickled once per process (by
    :func:`_call` before a task, or by the task itself when ``lazy``)."""

    def __init__(self, token: str, payload: bytes, lazy: bool = False) -> None:
        self.token, self.payload, self.lazy = token, payload, lazy

    def value(self) -> Any:
        if self.token not in _CACHE:
            _CACHE[self.token] = pickle.loads(self.payload)
        return _CACHE[self.token]


class _Local:
    """A lazily shared object in a serial run: the same ``value()`` as :class:`_Shared`."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def value(self) -> Any:
        return self.obj


def _sees(path: str, token: str) -> bool:
    try:
        return Path(path).read_text() == token
    except OSError:
        return False


#: Objects unpickled in this (worker) process, by share token.
_CACHE: dict[str, Any] = {}


def _forget(tokens: list[str]) -> None:
    for token in tokens:
        _CACHE.pop(token, None)


def _call(fn: Callable[..., Any], item: Any, **shared: Any) -> tuple[float, float, bytes]:
    """Run one task on a worker: resolve shared objects, return its seconds and CPU
    seconds (including unpickling a shared object the first time) and the pickled result (one byte string
    travels back, not an object graph for Dask to walk)."""
    start, cpu = time.perf_counter(), time.process_time()
    kwargs = {k: v.value() if isinstance(v, _Shared) and not v.lazy else v
              for k, v in shared.items()}
    payload = dumps(fn(item, **kwargs))
    return time.perf_counter() - start, time.process_time() - cpu, payload


def dumps(obj: Any) -> bytes:
    """``cloudpickle.dumps`` with arrays of shapely geometries stored as one WKB array.

    Shapely pickles each geometry on its own (a Python call per geometry on both
    sides); a district's result holds tens of thousands (its demand points' land
    cells), and the road index as many segments. Measured on a district of the
    generated city, unpickling its land cells took 7x longer one by one than
    ``shapely.from_wkb`` on the whole array. WKB keeps every coordinate bit for bit.
    """
    buf = io.BytesIO()
    _GeometryPickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getvalue()


def _geometries_from_wkb(wkb: np.ndarray) -> np.ndarray:
    return shapely.from_wkb(wkb)


class _GeometryPickler(cloudpickle.Pickler):
    def reducer_override(self, obj):
        if (type(obj) is np.ndarray and obj.dtype == object and obj.size >= 16
                and bool(shapely.is_valid_input(obj).all())
                and bool(shapely.is_geometry(obj).any())):
            return _geometries_from_wkb, (shapely.to_wkb(obj),)
        return super().reducer_override(obj)


def open_runner(
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    timeout_s: float = 10.0,
    progress: bool = True,
    retries: int = 2,
) -> Runner:
    """A :class:`Runner`: serial, a new ``LocalCluster``, or an existing scheduler.

    Parameters
    ----------
    workers : int, optional
        ``1`` (or ``0``) runs serially in this process without Dask: the reference run
        that every distributed run must reproduce exactly. ``None`` (default) starts a
        ``LocalCluster`` sized to the machine: one single-threaded worker process per
        core (the work holds the GIL), memory shared evenly. ``N >= 2`` starts ``N``
        workers. Ignored with ``scheduler``.
    scheduler : str, optional
        Address of a running scheduler, e.g. ``"tcp://10.0.0.5:8786"``.
    timeout_s : float
        How long to wait for the scheduler to answer.

    Raises
    ------
    InputError
        The scheduler does not answer within ``timeout_s``.
    """
    if scheduler is None and workers is not None and workers <= 1:
        if workers < 0:
            raise InputError(f"workers={workers} is negative.", source="workers",
                             fix="give 1 (serial), a worker count, or leave it unset.")
        return Runner(progress=progress, retries=retries)
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                f"the Dask scheduler at {scheduler!r} did not answer within {timeout_s:g} s "
                f"({type(exc).__name__}: {exc}).", source="scheduler",
                fix="start it (dask scheduler; dask worker ADDRESS), check the address and "
                "port, or leave the scheduler unset to run on a LocalCluster on this machine.",
            ) from exc
        return Runner(client=client, progress=progress, retries=retries)
    n = workers if workers is not None else (os.cpu_count() or 1)
    with dask.config.set({"distributed.worker.daemon": False}):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=40)
    client = Client(cluster, set_as_default=False)
    # Import the library on every worker now, in parallel, so that start-up cost is
    # paid (and timed) here and not inside the first tasks.
    client.run(_warm_up)
    return Runner(client=client, cluster=cluster, progress=progress, retries=retries, size=n)


def _warm_up() -> None:
    import coverage.city.assess  # noqa: F401
