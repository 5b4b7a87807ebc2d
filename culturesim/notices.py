"""Notices: what a run did that its user should know of, though nothing failed.

A run gives notice where the simulator's limits, rather than the scenario, shaped its numbers:

* :class:`HeadcountLimitWarning`: the growth plan reached the simulator's headcount limit and
  grew no further;
* :class:`NegativeCashWarning`: cash fell below zero. The model has no insolvency: it runs on
  as if the shortfall were borrowed (with no runway: the growth plan stops, and staff are laid
  off while it burns cash, until cash is above zero again), so a negative cash is the funding
  the company would have needed;
* :class:`NoStaffWarning`: no one was left (laid off or quit). The staff's KPIs have no one to
  measure and read 0 (engagement, trust, skill, tenure, ...), the workload its cap
  (:data:`~culturesim.kpis.WORKLOAD_CAP`), until someone is hired.

Each notice is a warning (a :class:`Notice`) and a line in ``model.notices``, in order. A
sweep's runs keep theirs quiet (:func:`notices_kept_quiet`): their output is out of sight, and
``runs.parquet``'s warning column records them instead.
"""

from __future__ import annotations

import contextlib
import contextvars
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from culturesim.model import CultureModel

__all__ = [
    "SEPARATOR",
    "HeadcountLimitWarning",
    "KernelCacheWarning",
    "NegativeCashWarning",
    "NoStaffWarning",
    "Notice",
    "notices_kept_quiet",
    "notices_quiet",
    "notify",
    "summarize",
]


class Notice(RuntimeWarning):
    """Something a run did that its user should know of (the simulator's limits shaped it)."""


class KernelCacheWarning(RuntimeWarning):
    """The compiled kernels could not be cached on disk: each new process compiles them again.

    Not a run's notice (a sweep's runs do not record it): the process's, warned once (a
    sweep's workers', once by the sweep: :func:`culturesim.compiled.warn_uncached`).
    """


class HeadcountLimitWarning(Notice):
    """A run's growth plan reached the simulator's headcount limit and grows no further."""


class NegativeCashWarning(Notice):
    """A run's cash fell below zero; it runs on as if the shortfall were borrowed."""


class NoStaffWarning(Notice):
    """A run's company had no staff left; the staff's KPIs read 0 and the workload its cap."""


#: What joins a run's notices in one line (a sweep's ``runs.parquet``); no notice may hold it.
SEPARATOR = "; "

_QUIET = contextvars.ContextVar("culturesim_quiet_notices", default=False)


@contextlib.contextmanager
def notices_kept_quiet() -> Iterator[None]:
    """Runs started inside keep their notices in ``model.notices`` without warning of them.

    Kernels they find they cannot cache are not warned of either (the sweep does it, once:
    :func:`culturesim.compiled.warn_uncached`).

    For a sweep's runs, whose output is out of sight. Unlike ``warnings.catch_warnings``,
    which changes the whole process's filters, it holds for this thread (or task) only: runs in
    other threads of a Dask worker warn, or not, as they were asked.
    """
    token = _QUIET.set(True)
    try:
        yield
    finally:
        _QUIET.reset(token)


def notices_quiet() -> bool:
    """Whether this thread (or task) is inside :func:`notices_kept_quiet`."""
    return _QUIET.get()


def notify(model: CultureModel, category: type[Notice], what: str) -> None:
    """Give notice: ``"seed S, month M: what"`` kept in ``model.notices`` and warned of.

    Args:
        model: The run.
        category: The kind of notice.
        what: What happened, in words (without :data:`SEPARATOR`, so joined notices split back).

    Raises:
        ValueError: If ``what`` holds :data:`SEPARATOR`.
    """
    if SEPARATOR in what:
        raise ValueError(f"a notice may not hold {SEPARATOR!r}: {what!r}")
    notice = f"seed {model.seed}, month {model.month}: {what}"
    model.notices.append(notice)
    model.notice_kinds.append(category)
    if not notices_quiet():
        warnings.warn(notice, category, stacklevel=3)  # the line of the month that stepped it


def summarize(models: list[CultureModel], name: str = "") -> None:
    """Warn once per kind of notice that runs of one scenario gave, for the lowest seed.

    A run of several seeds (``culturesim run``, ``compare``) whose seeds each gave the same
    notice printed a line per seed, in the order the threads finished. Each kind is now said
    once, in seed order, naming the other seeds that gave it too; each run's own notices stay
    whole in its ``model.notices``. Kept quiet inside :func:`notices_kept_quiet`.

    Args:
        models: The finished runs, whose notices were kept quiet as they ran.
        name: What to call the runs before their notices (compare's ``A`` and ``B``).
    """
    if _QUIET.get():
        return
    by_kind: dict[type[Notice], list[tuple[int, str]]] = {}
    for model in sorted(models, key=lambda m: m.seed):
        firsts: dict[type[Notice], str] = {}
        for kind, notice in zip(model.notice_kinds, model.notices, strict=True):
            firsts.setdefault(kind, notice)
        for kind, notice in firsts.items():
            by_kind.setdefault(kind, []).append((model.seed, notice))
    for kind, given in by_kind.items():
        (_, first), others = given[0], [seed for seed, _ in given[1:]]
        if others:
            listed = ", ".join(map(str, others[:5])) + (", ..." if len(others) > 5 else "")
            first += f" (so did {len(others)} more of the {len(models)} seeds: {listed})"
        warnings.warn(f"{name}: {first}" if name else first, kind, stacklevel=2)
