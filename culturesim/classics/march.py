"""March (1991): exploration and exploitation in organizational learning (mutual learning).

Reality has ``m`` dimensions, each +1 or -1. ``n`` individuals hold beliefs in {-1, 0, +1}
(initially random, equally likely); the organizational code starts with no views (all 0). Each
period, in this order (the variant later re-implementations agree on; March leaves it open):

1. socialization: on each dimension where the code has a view, each individual adopts it with
   chance ``p1``;
2. code learning: the superior group is everyone who gets more dimensions right than the code;
   on each dimension where the group's majority differs from the code, the code adopts the
   majority view with chance ``1 - (1 - p2) ** k``, ``k`` = majority minus minority (this step
   is :func:`culturesim.processes.knowledge.learn_code`, which the company model runs too);
3. turnover: each individual is replaced with chance ``p3`` by a newcomer with random beliefs;
4. turbulence: each dimension of reality flips with chance ``p4``.

Without turnover and turbulence the system reaches an equilibrium where individuals and code
agree; the knowledge of the code there is March's Figure 1 outcome: slower socialization (low
``p1``) gives higher knowledge, and fast code learning helps only when socialization is slow.
March's other results: moderate turnover raises the code's knowledge, the more so the faster
socialization is (newcomers bring back the variety that fast socialization removes); in a
turbulent world without turnover the code's knowledge decays after its early peak, and moderate
turnover sustains it. :func:`knowledge_paths` gives the code's knowledge over time for them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from culturesim.processes.knowledge import learn_code

__all__ = ["MarchResult", "knowledge_paths", "simulate", "turbulence_effects", "turnover_gains"]


@dataclass
class MarchResult:
    """Code and individual knowledge over time.

    Attributes:
        code_knowledge: Share of dimensions the code gets right, each period (period 0 first).
        individual_knowledge: Mean share individuals get right, each period.
        equilibrium: Whether beliefs and code stopped changing (with p3 = p4 = 0).
        periods: Periods run.
    """

    code_knowledge: np.ndarray
    individual_knowledge: np.ndarray
    equilibrium: bool
    periods: int


def simulate(
    m: int = 30,
    n: int = 50,
    p1: float = 0.1,
    p2: float = 0.5,
    p3: float = 0.0,
    p4: float = 0.0,
    periods: int = 1000,
    seed: int = 0,
) -> MarchResult:
    """Run March's mutual-learning model.

    Args:
        m: Dimensions of reality (March: 30).
        n: Individuals (March: 50).
        p1: Socialization rate (learning from the code).
        p2: Code learning rate (learning from the superior group).
        p3: Turnover per period.
        p4: Turbulence per period.
        periods: Maximum periods (stops earlier at equilibrium when p3 = p4 = 0).
        seed: Random seed.
    """
    rng = np.random.default_rng(seed)
    reality = np.where(rng.random(m) < 0.5, 1, -1).astype(np.int8)
    beliefs = rng.integers(-1, 2, size=(n, m)).astype(np.int8)
    code = np.zeros(m, dtype=np.int8)
    code_k, ind_k = [float(np.mean(code == reality))], [float(np.mean(beliefs == reality))]
    static = p3 == 0 and p4 == 0
    for period in range(1, periods + 1):
        adopt = (rng.random((n, m)) < p1) & (code != 0)
        new_beliefs = np.where(adopt, code, beliefs).astype(np.int8)
        new_code = learn_code(code, new_beliefs, reality, p2, rng.random(m))
        if p3 > 0:
            leave = rng.random(n) < p3
            fresh = rng.integers(-1, 2, size=(int(leave.sum()), m)).astype(np.int8)
            new_beliefs[leave] = fresh
        if p4 > 0:
            reality = np.where(rng.random(m) < p4, -reality, reality).astype(np.int8)
        done = static and np.array_equal(new_code, code) and np.all(new_beliefs == new_code)
        beliefs, code = new_beliefs, new_code
        code_k.append(float(np.mean(code == reality)))
        ind_k.append(float(np.mean(beliefs == reality)))
        if done:
            return MarchResult(np.array(code_k), np.array(ind_k), True, period)
    return MarchResult(np.array(code_k), np.array(ind_k), False, periods)


def knowledge_paths(seeds, periods: int, **params: float) -> np.ndarray:
    """The code's knowledge in periods 0..``periods`` for each seed (rows), same parameters.

    A run that reached its equilibrium early (no turnover, no turbulence) keeps its final value
    for the remaining periods: nothing changes in an absorbing state.

    Args:
        seeds: Seeds, one row each.
        periods: Periods to run.
        **params: Parameters of :func:`simulate` (``p1``, ``p2``, ``p3``, ``p4``, ``m``, ``n``).
    """
    rows = []
    for s in seeds:
        k = simulate(periods=periods, seed=s, **params).code_knowledge
        rows.append(np.concatenate([k, np.full(periods + 1 - k.size, k[-1])]))
    return np.array(rows)


def turnover_gains(seeds, p3: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """What moderate turnover adds to the code's knowledge, per seed (paired), at p2 = 0.5.

    The mean knowledge over periods 151-200 with turnover ``p3`` minus without, with fast
    socialization (p1 = 0.9) and with slow (p1 = 0.1).

    Returns:
        The gains at p1 = 0.9 and at p1 = 0.1.
    """

    def late(p1: float, turnover: float) -> np.ndarray:
        paths = knowledge_paths(seeds, 200, p1=p1, p2=0.5, p3=turnover)
        return paths[:, 151:].mean(axis=1)

    return late(0.9, p3) - late(0.9, 0.0), late(0.1, p3) - late(0.1, 0.0)


def turbulence_effects(seeds, p4: float = 0.02, p3: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """March's turbulence results per seed (paired), slow socialization (p1 = 0.1), p2 = 0.5.

    Returns:
        The decay without turnover (mean knowledge over periods 10-40 minus 300-400) and what
        turnover ``p3`` keeps (periods 300-400 with turnover minus without).
    """
    still = knowledge_paths(seeds, 400, p1=0.1, p2=0.5, p4=p4)
    moving = knowledge_paths(seeds, 400, p1=0.1, p2=0.5, p3=p3, p4=p4)
    late = still[:, 300:].mean(axis=1)
    return still[:, 10:41].mean(axis=1) - late, moving[:, 300:].mean(axis=1) - late
