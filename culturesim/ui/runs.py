"""What the UI computes, kept free of Solara so it can be tested and reused.

Running replications (in worker processes so a long run never blocks the server), summarising
them into bands, pairing two settings run with common random numbers, snapshots of the org
network for the network view, and the files a visitor downloads (made in memory: nothing is
ever written on the server).
"""

from __future__ import annotations

import dataclasses
import io
import json
import multiprocessing
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from culturesim.batch.compare import Comparison
from culturesim.interrupts import stop_workers, work_for
from culturesim.kpis import KPIS, format_number
from culturesim.levers import LEVERS, starting_context
from culturesim.measure import alignment
from culturesim.model import CultureModel
from culturesim.notices import notices_kept_quiet
from culturesim.plots import DASHBOARD_KPIS, band
from culturesim.run import cores
from culturesim.scenario import (
    Scenario,
    ScenarioError,
    compare_arm,
    manifest_kind,
    parse_json,
    parse_toml,
    scenario_from_dict,
    scenario_from_manifest,
    seeds_from,
)
from culturesim.ui import UI_MAX_EMPLOYEES, UI_MAX_EVENTS, UI_MAX_USERS, configured_workers

__all__ = [
    "FAMILY_KPIS",
    "FIRST_START",
    "KEPT_BYTES",
    "MAX_UPLOAD_BYTES",
    "NETWORK_MAX_PEOPLE",
    "Ensemble",
    "Kept",
    "check_size",
    "lever_text",
    "network_snapshot",
    "parse_upload",
    "run_ensemble",
    "start_warm_up",
    "starting_text",
    "wait_for_warm_up",
    "warming_up",
]

#: Largest scenario file a visitor may upload.
MAX_UPLOAD_BYTES = 1_000_000

#: The charts of the strategist page: the dashboard's KPIs, by family, in the dashboard's order.
FAMILY_KPIS: dict[str, list[str]] = {}
for _name in DASHBOARD_KPIS:
    FAMILY_KPIS.setdefault(KPIS[_name].family, []).append(_name)

# --- uploads ---------------------------------------------------------------------------------


def upload_label(name: str | None) -> str:
    """How an uploaded file is named in messages: its base name, at most 80 characters."""
    return os.path.basename(name or "upload")[:80] or "upload"


def parse_upload(name: str, data: bytes) -> list[tuple[str, Scenario]]:
    """The scenarios an upload holds, each with its label, validated: at most 1 MB.

    A name ending in ``.json`` is read as a results folder's ``manifest.json``: a ``culturesim
    run`` folder's gives the scenario as it ran, as the command line reads it; a ``culturesim
    compare`` folder's gives A and B as they ran, labelled ``"<name> A"`` and ``"<name> B"``.
    Any other name is read as a TOML scenario.

    Args:
        name: The file name the visitor's browser gave (used in messages only, never as a path).
        data: The file's bytes.

    Raises:
        ScenarioError: If the file is too large, not UTF-8 TOML (or a run's or comparison's
            manifest), not a valid scenario, or one with more events than the page lists
            (:data:`~culturesim.ui.UI_MAX_EVENTS`).
    """
    label = upload_label(name)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ScenarioError(label, [f"file is {len(data):,} bytes; at most 1 MB allowed"])
    if not label.lower().endswith(".json"):
        found = [(label, scenario_from_dict(parse_toml(data, label), source=label))]
    elif manifest_kind(manifest := parse_json(data, label)) == "compare":
        found = [(f"{label} {arm.upper()}", compare_arm(manifest, arm, label)) for arm in "ab"]
    else:  # a run's (or refused, naming what it is)
        found = [(label, scenario_from_manifest(data, label))]
    for labelled, scenario in found:
        if problem := _events_problem(scenario):  # before the page lists them
            raise ScenarioError(labelled, [problem])
    return found


def _events_problem(scenario: Scenario) -> str:
    """What is wrong with ``scenario``'s events for this page (:data:`UI_MAX_EVENTS`), or ""."""
    n = len(scenario.events)
    if n <= UI_MAX_EVENTS:
        return ""
    return (
        f"events: {n:,} events; this page lists and edits at most {UI_MAX_EVENTS:,}; any "
        "number runs with culturesim run"
    )


def size_limits() -> tuple[int, int]:
    """The largest planned headcount and market this server runs (employees, potential users).

    ``culturesim ui --max-employees/--max-users`` pass them to the server as
    ``CULTURESIM_UI_MAX_EMPLOYEES`` and ``CULTURESIM_UI_MAX_USERS``.
    """
    env = os.environ
    return (
        int(env.get("CULTURESIM_UI_MAX_EMPLOYEES", UI_MAX_EMPLOYEES)),
        int(env.get("CULTURESIM_UI_MAX_USERS", UI_MAX_USERS)),
    )


def check_size(scenario: Scenario, source: str = "this page") -> None:
    """Refuse a setting larger than this server runs (see :func:`size_limits`).

    Also one with more events than the page lists (:data:`~culturesim.ui.UI_MAX_EVENTS`).

    Raises:
        ScenarioError: Naming the key, the size and the server's limit.
    """
    max_employees, max_users = size_limits()
    problems = []
    planned = scenario.planned_headcount()
    if planned > max_employees:
        problems.append(
            f"organization.employees: this setting plans up to {planned:,.0f} employees by month "
            f"{scenario.meta.months}; this server runs at most {max_employees:,} "
            "(culturesim ui --max-employees); any size runs with culturesim run"
        )
    users = scenario.market.potential_users
    if users > max_users:
        problems.append(
            f"market.potential_users: {users:,}; this server runs at most {max_users:,} "
            "(culturesim ui --max-users); any size runs with culturesim run"
        )
    if events := _events_problem(scenario):
        problems.append(events)
    if problems:
        raise ScenarioError(source, problems)


# --- lever costs -----------------------------------------------------------------------------


def lever_text(name: str, value: float, scenario: Scenario) -> str:
    """A lever's setting and what it costs per month for the scenario's starting company.

    E.g. ``0.2 · $300k/month of work time for 120 staff (not paid out)``: shown under the
    lever's slider, whose own track does not show its value (:meth:`Lever.cost_text
    <culturesim.levers.Lever.cost_text>`).
    """
    lever = LEVERS[name]
    return f"{format_number(value)} · {lever.cost_text(value, starting_context(scenario))}"


# --- runs ------------------------------------------------------------------------------------


#: Most people a network snapshot holds: past it, whole teams are drawn, sampled evenly (a
#: picture of 35,000 dots said little, weighed 5.8 MB a draw and took 3.3 s to show).
NETWORK_MAX_PEOPLE = 3000


def _team_share(team: np.ndarray) -> np.ndarray:
    """A fixed number in [0, 1) for each team id, spread evenly (SplitMix64's mixing).

    A team is drawn when its number is below the share of people the picture can hold, so the
    teams drawn are the same month after month while that share holds, and a smaller share
    draws a subset of a larger one's. (Fibonacci hashing alone, the id times the golden ratio,
    drew a wedge: teams sit on a golden-angle spiral, so it picked them by angle.)
    """
    z = team.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) / 2.0**53


def network_snapshot(
    model: CultureModel, max_edges: int = 4000, max_people: int = NETWORK_MAX_PEOPLE
) -> dict[str, np.ndarray]:
    """The org network now: employees placed by site and team, with what the view colours.

    Sites sit on a circle (wide enough that the largest site clears its neighbours), teams on
    a sunflower spiral within their site, members on a small circle within their team (newer
    teams further out, so the picture is stable over months).

    Past ``max_people`` employees, whole teams are drawn, each with the same chance (about
    ``max_people`` people in all), in the places they have in the whole company's picture: teams
    keep their ties and the picture its shape, at a fraction of its weight.

    At most ``max_edges`` ties among those drawn are drawn, taken evenly from all of them: the
    first ones alone (those of the people first in order) left most of a company of thousands
    without a tie in the picture (2,000 founding staff have about 8,700 ties; hypergrowth's
    1,051 people at month 60 have 2,750, all drawn).

    Returns:
        Arrays ``slot``, ``site``, ``team``, ``x``, ``y``, ``engagement``, ``alignment``,
        ``skill`` (one entry per employee drawn), ``edges`` (pairs of positions in those
        arrays), and single numbers: ``people`` (the headcount, drawn or not), ``sites``
        (the sites with people) and ``ties`` (how many ties the people drawn have among
        themselves, drawn or not).
    """
    e = model.employees
    ids = e.ids
    site, team = e.site[ids], e.team[ids]
    n_sites = int(site.max()) + 1 if ids.size else 1
    # sort by site, team, slot; number the teams within each site and the members within each team
    order = np.lexsort((ids, team, site))
    st, tt, pos = site[order], team[order], np.arange(ids.size)
    new_site = np.r_[True, st[1:] != st[:-1]]
    new_team = new_site | np.r_[True, tt[1:] != tt[:-1]]
    team_seq = np.cumsum(new_team) - 1
    k = team_seq - np.maximum.accumulate(np.where(new_site, team_seq, 0))  # team rank in site
    rank = pos - np.maximum.accumulate(np.where(new_team, pos, 0))  # member rank in team
    size = np.bincount(team_seq)[team_seq]
    r, a = 0.32 * np.sqrt(k + 0.5), k * np.pi * (3.0 - np.sqrt(5.0))  # golden-angle spiral
    # sites far enough apart on their circle that the largest's spiral clears its neighbours'
    # (at a fixed radius of 3, a dozen sites, or two of 600 people, ran into one another)
    reach = (r.max() if ids.size else 0.0) + 0.11
    centre = 2 * np.pi * st / n_sites
    radius = 0.0 if n_sites == 1 else max(3.0, 1.2 * reach / np.sin(np.pi / n_sites))
    angle = 2 * np.pi * rank / size
    x, y = np.empty(ids.size), np.empty(ids.size)
    x[order] = radius * np.cos(centre) + r * np.cos(a) + 0.11 * np.cos(angle)
    y[order] = radius * np.sin(centre) + r * np.sin(a) + 0.11 * np.sin(angle)
    drawn = np.arange(ids.size)
    if ids.size > max_people:
        drawn = np.flatnonzero(_team_share(team) < max_people / ids.size)
    slots = ids[drawn]
    adj = model.org.matrix(e.alive)
    upper = adj[slots][:, slots]
    rows, cols = upper.nonzero()
    keep = rows < cols
    edges = np.column_stack([rows[keep], cols[keep]])
    ties = len(edges)
    if ties > max_edges:
        edges = edges[np.linspace(0, ties - 1, max_edges).round().astype(np.int64)]
    return {
        "slot": slots.copy(),
        "site": site[drawn],
        "team": team[drawn],
        "x": x[drawn],
        "y": y[drawn],
        "engagement": e.engagement[slots],
        "alignment": alignment(e.values[slots], model.core),
        "skill": e.skill[slots],
        "edges": edges,
        "people": np.array(ids.size),
        "sites": np.array(np.unique(site).size),
        "ties": np.array(ties),
    }


def run_one(scenario: dict, seed: int, months: int, snapshots: bool) -> tuple:
    """Run one replication (in a worker process).

    Returns:
        Its KPI frame, network snapshots (None without ``snapshots``) and notices (kept for the
        page, not printed in the server's log).
    """
    model = CultureModel(scenario=scenario_from_dict(scenario, "<ui>"), rng=seed)
    snaps = [network_snapshot(model)] if snapshots else None
    with notices_kept_quiet():
        for _ in range(months):
            model.step()
            if snapshots:
                snaps.append(network_snapshot(model))
    return model.kpi_frame(), snaps, model.notices


#: The most bytes of finished replications the server keeps for reuse (see :class:`Kept`).
KEPT_BYTES = 256 * 2**20


class Kept:
    """Replications the server has run or is running, by what they run, for any session.

    The same setting, seed and horizon give the same numbers (the model is reproducible), so a
    class pressing Run on the same setting at once shares one run of each replication, and a
    visitor going back to a setting gets its replications at once instead of waiting for the
    workers. Finished ones are kept up to ``limit`` bytes (the baseline's 60 months: 17 KB a
    run, 1.4 MB for a first run with its network snapshots), the least recently used dropped
    first; they are shared between sessions, read-only like an ensemble's.
    """

    def __init__(self, limit: int = KEPT_BYTES):
        self.limit = limit
        self.size = 0
        self._runs: OrderedDict[tuple, tuple[tuple, int]] = OrderedDict()
        self._running: dict[tuple, list] = {}  # key -> [future, sessions waiting for it]
        self._lock = threading.RLock()  # sessions run from their own threads

    @staticmethod
    def key(data: dict, seed: int, months: int, snapshots: bool) -> tuple:
        """What a replication runs: the setting (plain data), seed, months, with snapshots."""
        return json.dumps(data, sort_keys=True), seed, months, snapshots

    def get(self, key: tuple) -> tuple | None:
        """The result of :func:`run_one` kept under ``key``, or None."""
        with self._lock:
            found = self._runs.get(key)
            if found is None:
                return None
            self._runs.move_to_end(key)
            return found[0]

    def put(self, key: tuple, result: tuple) -> None:
        """Keep ``result`` (of :func:`run_one`) under ``key``; drop the oldest beyond the limit.

        A result larger than the whole limit is not kept: it would push out every other run
        and then itself.
        """
        frame, snaps, _ = result
        size = int(frame.memory_usage(index=True).sum()) + sum(
            v.nbytes for snap in snaps or () for v in snap.values() if isinstance(v, np.ndarray)
        )
        with self._lock:
            if key in self._runs or size > self.limit:
                return
            self._runs[key] = (result, size)
            self.size += size
            while self.size > self.limit and self._runs:
                _, (_, dropped) = self._runs.popitem(last=False)
                self.size -= dropped

    def submit(self, key: tuple, start: Callable[[], Future]) -> Future:
        """The future of the replication ``key``: kept, running for another session, or new.

        A kept result comes back as a finished future; else the future of the run another
        session started, else ``start()``'s. Its result is kept when it finishes; a session
        that stops waiting for it calls :meth:`release`.
        """
        with self._lock:
            found = self.get(key)
            if found is not None:
                done: Future = Future()
                done.set_result(found)
                return done
            entry = self._running.get(key)
            if entry is None:
                future = start()
                entry = self._running[key] = [future, 0]
                future.add_done_callback(lambda done: self._finished(key, done))
            entry[1] += 1
            return entry[0]

    def release(self, key: tuple, future: Future) -> None:
        """A session no longer waits for ``future``: cancel it unless another session does."""
        with self._lock:
            entry = self._running.get(key)
            if entry is None or entry[0] is not future:
                return
            entry[1] -= 1
            if entry[1] > 0:
                return
            del self._running[key]
        future.cancel()

    def _finished(self, key: tuple, future: Future) -> None:
        with self._lock:
            entry = self._running.get(key)
            if entry is not None and entry[0] is future:
                del self._running[key]
        if not future.cancelled() and future.exception() is None:
            self.put(key, future.result())

    def __len__(self) -> int:
        return len(self._runs)


_KEPT = Kept()


class _Inline(Executor):
    """Runs each job at once in the caller's thread (``CULTURESIM_UI_WORKERS=0``)."""

    def submit(self, fn, /, *args, **kwargs):
        from concurrent.futures import Future

        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # handed to the caller through the future
            future.set_exception(exc)
        return future


_POOL: dict[str, Executor] = {}  # the server's worker processes: infrastructure, not visitor state
_POOL_LOCK = threading.Lock()
#: Why a visitor may wait on a server's first start (the kernels compile, then are cached).
FIRST_START = "the first start after an install or upgrade compiles the model: about half a minute"
_READY = threading.Event()  # a job has come back from the workers: they are up and compiled
_WARMED = threading.Event()  # no warm-up is running (cleared while one is)
_WARMED.set()


def executor() -> Executor:
    """The worker pool all sessions share (created on first use).

    ``CULTURESIM_UI_WORKERS`` sets its size (:func:`configured_workers`); ``0`` runs inline.
    Workers are spawned, not forked, so they never inherit the server's threads.
    """
    with _POOL_LOCK:  # sessions start runs from their own threads
        if "pool" not in _POOL:
            workers = configured_workers()
            workers = cores() if workers is None else workers
            _POOL["pool"] = (
                _Inline()
                if workers <= 0
                else ProcessPoolExecutor(
                    workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=work_for,
                    initargs=(os.getpid(),),
                )
            )
        return _POOL["pool"]


def _shut_down() -> None:
    """At the server's exit: stop the workers at once and let go of the pool, if there is one.

    Work still running (a visitor's replications, the warm-up's first compile of the kernels,
    about 20 s) is of no use once the server stops, and Python's own exit handler for the pool
    would wait for it: Ctrl-C then took 20 s and ended in a kill. Letting go of the pool
    releases its queues' locks before Python's resource tracker checks for leaks.
    """
    with _POOL_LOCK:
        pool = _POOL.pop("pool", None)
    if isinstance(pool, ProcessPoolExecutor):
        stop_workers(pool)


# before concurrent.futures' own exit handler, which joins the pool after its running work
# (threading's exit handlers run last registered first, and before the atexit ones)
threading._register_atexit(_shut_down)


def reset_if_broken() -> None:
    """Drop the worker pool if a worker died (the next run starts a fresh one)."""
    with _POOL_LOCK:
        pool = _POOL.get("pool")
        if isinstance(pool, ProcessPoolExecutor) and getattr(pool, "_broken", False):
            pool.shutdown(wait=False, cancel_futures=True)
            del _POOL["pool"]


def start_warm_up() -> None:
    """Warm the workers up in the background (:func:`warm_up`), from the server's start."""
    _WARMED.clear()  # before the thread runs: a visitor's first click may come first
    threading.Thread(target=warm_up, name="culturesim-warm-up", daemon=True).start()


def warm_up() -> None:
    """Start the worker processes and import the model in them, so the first Run is quick.

    On a machine's first start (or after an upgrade) the workers compile the model's kernels
    here, about half a minute; :func:`starting_text` says so to a visitor who runs meanwhile,
    and the classroom waits for it (:func:`wait_for_warm_up`). Run by :func:`start_warm_up`,
    which marks the warm-up as running before its thread starts.
    """
    try:
        pool = executor()
        one_month = Scenario().with_changes({"meta.months": 1}).to_dict()
        jobs = [pool.submit(run_one, one_month, seed, 1, False) for seed in (0, 1)]
        for job in jobs:
            job.result()
        _READY.set()
    except (BrokenProcessPool, RuntimeError):  # the server stopped while warming up
        return
    except OSError as exc:  # no room to start them (a full disk, or /dev/shm): a Run retries
        print(f"culturesim UI: the workers could not start: {exc}", file=sys.stderr)
    finally:
        _WARMED.set()


def warming_up() -> bool:
    """Whether the workers' warm-up is still running."""
    return not _WARMED.is_set()


def wait_for_warm_up(timeout: float = 300.0) -> None:
    """Return when no warm-up is running (at once, usually; at most ``timeout`` seconds).

    The classroom runs its model in the server process. Built while the workers compile the
    kernels on a first start, it would compile them a second time, in the server, holding up
    every visitor for half a minute; once they are done it loads their compiled kernels.
    """
    _WARMED.wait(timeout)


def starting_text(replications: int) -> str:
    """The progress line of a run that has just started (nothing has landed yet).

    Until the workers have answered once it says why the wait may be long: they are still
    starting, and on a first start they compile the model.
    """
    text = f"0 of {replications} replications"
    if not _READY.is_set() and not isinstance(executor(), _Inline):
        text += f" · the workers are still starting ({FIRST_START})"
    return text


@dataclass
class Ensemble:
    """Replications of one setting.

    Attributes:
        scenario: The setting that was run (levers, events, horizon).
        seeds: The seeds, in run order (replication ``i`` uses ``seeds[i]``).
        frames: KPI frame per finished replication, by seed.
        snapshots: Monthly network snapshots of the first seed's run.
        notices: What each finished replication gave notice of (:mod:`culturesim.notices`),
            by seed; a replication without notices has none here.

    The stacked runs and each KPI's band are computed once for the replications finished so
    far and kept until another lands (a page draws some 24 charts and their captions from
    them at every redraw); treat what :meth:`timeseries` and :meth:`band` return as read-only.
    """

    scenario: Scenario
    seeds: list[int]
    frames: dict[int, pd.DataFrame] = field(default_factory=dict)
    snapshots: list[dict] | None = None
    notices: dict[int, list[str]] = field(default_factory=dict)
    _kept: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def done(self) -> int:
        """Replications finished."""
        return len(self.frames)

    def copy(self) -> Ensemble:
        """The replications finished so far, as a new ensemble (later ones land here only)."""
        return dataclasses.replace(self, frames=dict(self.frames), notices=dict(self.notices))

    def notice_text(self) -> str:
        """The replications' notices in a sentence ("" if none gave any)."""
        seeds = sorted(self.notices)
        if not seeds:
            return ""
        first = self.notices[seeds[0]]
        more = " (and more)" if len(seeds) > 1 or len(first) > 1 else ""
        return f"{len(seeds)} of {self.done} replications gave notice; the first: {first[0]}{more}"

    @property
    def complete(self) -> bool:
        """Whether every replication has finished."""
        return self.done == len(self.seeds)

    def _summaries(self) -> dict:
        """What is kept for the replications finished now (emptied when that changes)."""
        finished = tuple((seed, id(frame)) for seed, frame in self.frames.items())
        if self._kept.get("finished") != finished:
            self._kept.clear()
            self._kept.update(finished=finished, bands={})
        return self._kept

    def timeseries(self) -> pd.DataFrame:
        """Finished replications stacked: ``run_id``, ``seed``, ``month``, then the KPIs."""
        kept = self._summaries()
        if "timeseries" not in kept:
            parts = []
            for run_id, seed in enumerate(self.seeds):
                if seed in self.frames:
                    frame = self.frames[seed].reset_index()
                    frame.insert(0, "seed", seed)
                    frame.insert(0, "run_id", run_id)
                    parts.append(frame)
            kept["timeseries"] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        return kept["timeseries"]

    def band(self, kpi: str) -> pd.DataFrame:
        """Median and 10-90% band of ``kpi`` by month over the finished replications."""
        bands = self._summaries()["bands"]
        if kpi not in bands:
            bands[kpi] = band(self.timeseries(), kpi)
        return bands[kpi]


def run_ensemble(
    scenario: Scenario,
    replications: int,
    on_progress: Callable[[Ensemble], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Ensemble:
    """Run ``replications`` seeds of ``scenario`` on the worker pool.

    Seeds are ``meta.seed + i``, so two settings with the same seed and count are paired by
    common random numbers. ``on_progress`` is called with the ensemble after each replication
    lands, once for those landing together (charts fill in as they do). When ``cancelled()``
    turns true the remaining jobs are dropped and the partial ensemble is returned.
    Replications the server has run before, for any session, land at once and one running for
    another session is shared (:class:`Kept`); the others run and are kept.

    Raises:
        ValueError: If the seeds would pass the largest seed (:func:`seeds_from`).
    """
    seeds = seeds_from(scenario.meta.seed, replications, runs="replications")
    ensemble = Ensemble(scenario, seeds)
    data, months = scenario.to_dict(), scenario.meta.months

    def args(seed: int) -> tuple:
        return data, seed, months, seed == seeds[0]  # the first run keeps network snapshots

    def land(seed: int, result: tuple) -> None:
        frame, snaps, notices = result
        ensemble.frames[seed] = frame
        if notices:
            ensemble.notices[seed] = notices
        if snaps is not None:
            ensemble.snapshots = snaps

    keys = {seed: Kept.key(*args(seed)) for seed in seeds}
    pool = executor()

    def start(seed: int) -> Future:
        job = pool.submit(run_one, *args(seed))
        job.add_done_callback(lambda job: job.cancelled() or job.exception() or _READY.set())
        return job

    # each replication from what the server keeps, or run now, or being run for another session
    jobs = {_KEPT.submit(keys[seed], lambda seed=seed: start(seed)): seed for seed in seeds}
    waiting = set(jobs)
    for job in as_completed(jobs):
        if cancelled():
            for other, seed in jobs.items():
                _KEPT.release(keys[seed], other)
            break
        land(jobs[job], job.result())
        waiting.discard(job)
        # once for replications landing together (kept ones, a shared run): a page redraws
        # its two dozen charts at every call
        if on_progress is not None and not any(other.done() for other in waiting):
            on_progress(ensemble)
    return ensemble


# --- comparison ------------------------------------------------------------------------------


def paired(a: Ensemble, b: Ensemble) -> Comparison | None:
    """B against A over their common seeds; None if there are none or the horizons differ."""
    common = [s for s in a.seeds if s in a.frames and s in b.frames]
    if not common or a.scenario.meta.months != b.scenario.meta.months:
        return None
    pick = lambda ts: ts[ts["seed"].isin(common)].reset_index(drop=True)  # noqa: E731
    return Comparison(pick(a.timeseries()), pick(b.timeseries()))


# --- downloads -------------------------------------------------------------------------------


def csv_bytes(ensemble: Ensemble) -> bytes:
    """The finished replications as CSV (``run_id``, ``seed``, ``month``, KPIs)."""
    return ensemble.timeseries().to_csv(index=False).encode()


def png_bytes(ensemble: Ensemble, title: str) -> bytes:
    """The dashboard figure (median and 10-90% band of every charted KPI) as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from culturesim.plots import dashboard

    fig = dashboard(ensemble.timeseries(), title=title)
    for ax in fig.axes:
        for ev in ensemble.scenario.events:
            ax.axvline(ev.month, color="0.4", lw=0.8, ls=":")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()
