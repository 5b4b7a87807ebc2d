"""Hegselmann & Krause (2002): opinion dynamics with bounded confidence, all at once.

Each iteration every agent takes the mean opinion of all agents within ``eps`` of its own
(itself included). Opinions reach a fixed point in finitely many steps, in clusters whose number
falls as ``eps`` grows (about ``1 / (2 eps)`` for small ``eps``; consensus above about 0.25 for
uniform starts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from culturesim.classics.deffuant import count_clusters

__all__ = ["HKResult", "simulate"]


@dataclass
class HKResult:
    """Final opinions, clusters and iterations to the fixed point."""

    opinions: np.ndarray
    clusters: int
    iterations: int


def simulate(
    n: int = 1000, eps: float = 0.1, max_iterations: int = 1000, seed: int = 0
) -> HKResult:
    """Run the Hegselmann-Krause model from uniform opinions on [0, 1].

    Args:
        n: Agents.
        eps: Confidence bound.
        max_iterations: Stop after this many iterations if no fixed point is reached.
        seed: Random seed.
    """
    x = np.sort(np.random.default_rng(seed).random(n))
    for it in range(1, max_iterations + 1):
        # neighbours within eps of x_i form a contiguous run of the sorted opinions
        csum = np.r_[0.0, np.cumsum(x)]
        lo = np.searchsorted(x, x - eps, side="left")
        hi = np.searchsorted(x, x + eps, side="right")
        new = (csum[hi] - csum[lo]) / (hi - lo)
        if np.allclose(new, x, rtol=0, atol=1e-12):
            return HKResult(new, count_clusters(new, gap=1e-6, min_share=0.0), it)
        x = np.sort(new)
    return HKResult(x, count_clusters(x, gap=1e-6, min_share=0.0), max_iterations)
