"""Deffuant, Neau, Amblard & Weisbuch (2000): mixing beliefs among interacting agents.

Opinions start uniform on [0, 1]. At each step random pairs meet; when their opinions differ by
less than the threshold ``d`` both move a share ``mu`` of the way toward each other. Opinions
settle into clusters, about ``1 / (2 d)`` of them (the paper's rule of thumb).

Each round pairs every agent once (a random perfect matching), and both members of a pair apply
the update culturesim's coworkers use (:func:`culturesim.processes.culture.bounded_confidence`);
disjoint pairs do not interact, so a round equals n/2 of the paper's sequential meetings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from culturesim.processes.culture import bounded_confidence

__all__ = ["DeffuantResult", "count_clusters", "simulate"]


@dataclass
class DeffuantResult:
    """Final opinions and their clusters.

    Attributes:
        opinions: Final opinion of each agent.
        clusters: Number of major clusters (at least ``min_share`` of agents each).
        rounds: Rounds run.
    """

    opinions: np.ndarray
    clusters: int
    rounds: int


def count_clusters(x: np.ndarray, gap: float = 0.02, min_share: float = 0.02) -> int:
    """Clusters of sorted opinions split where neighbours differ by more than ``gap``.

    Only clusters holding at least ``min_share`` of the agents count (the paper's major
    clusters; stray extremists are not a cluster).
    """
    s = np.sort(np.asarray(x))
    breaks = np.flatnonzero(np.diff(s) > gap)
    sizes = np.diff(np.r_[0, breaks + 1, s.size])
    return int(np.count_nonzero(sizes >= min_share * s.size))


def settled(x: np.ndarray, d: float, tol: float = 1e-6) -> bool:
    """Whether every pair within ``d`` has (all but) met: clusters narrower than ``tol``."""
    gaps = np.diff(np.sort(x))
    return bool(np.all((gaps < tol) | (gaps >= d)))


def simulate(
    n: int = 1000, d: float = 0.2, mu: float = 0.5, rounds: int = 2000, seed: int = 0
) -> DeffuantResult:
    """Run the Deffuant model.

    Args:
        n: Agents (even).
        d: Confidence threshold.
        mu: Convergence parameter (0 < mu <= 0.5).
        rounds: Rounds; each agent meets one random partner per round.
        seed: Random seed.
    """
    rng = np.random.default_rng(seed)
    x = rng.random(n)
    for k in range(rounds):
        order = rng.permutation(n - n % 2).reshape(-1, 2)
        a, b = order[:, 0], order[:, 1]
        xa, xb = x[a], x[b]
        x[a] = bounded_confidence(xa, xb, d, mu)
        x[b] = bounded_confidence(xb, xa, d, mu)
        if k % 50 == 49 and settled(x, d):
            return DeffuantResult(x, count_clusters(x), k + 1)
    return DeffuantResult(x, count_clusters(x), rounds)
