"""Bass (1969): the diffusion of a new product, agent-based beside the closed form.

Each period a non-adopter adopts with chance ``1 - exp(-h dt)``, ``h = p + q F`` where ``F`` is the
share who have adopted (the market is fully mixed); the closed form of the cumulative share is
``F(t) = (1 - exp(-(p + q) t)) / (1 + (q / p) exp(-(p + q) t))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from culturesim.portable import exp
from culturesim.processes.users import bass_hazard

__all__ = ["BassResult", "closed_form", "simulate"]


@dataclass
class BassResult:
    """Adoption over time.

    Attributes:
        t: Times (``dt`` apart, from 0).
        adopted: Share adopted at each time (agent-based).
        closed_form: The Bass closed form at the same times.
    """

    t: np.ndarray
    adopted: np.ndarray
    closed_form: np.ndarray


def closed_form(t: np.ndarray, p: float, q: float) -> np.ndarray:
    """Cumulative adoption share of the Bass model at times ``t``.

    :func:`culturesim.portable.exp`: the same last bits on any machine.
    """
    e = np.array([exp(-(p + q) * float(x)) for x in np.ravel(t)]).reshape(np.shape(t))
    return (1.0 - e) / (1.0 + (q / p) * e)


def simulate(
    p: float = 0.03,
    q: float = 0.38,
    m: int = 10_000,
    dt: float = 0.1,
    periods: float = 20.0,
    seed: int = 0,
) -> BassResult:
    """Simulate Bass diffusion among ``m`` agents on a fully mixed market.

    Args:
        p: Coefficient of innovation per unit time (Bass's p; 0.03 is the meta-analytic mean of
            Sultan, Farley & Lehmann 1990).
        q: Coefficient of imitation per unit time (Bass's q; 0.38 likewise).
        m: Market size (agents).
        dt: Time step.
        periods: Time to simulate.
        seed: Random seed.
    """
    rng = np.random.default_rng(seed)
    steps = round(periods / dt)
    adopted = np.zeros(m, dtype=bool)
    share = np.zeros(steps + 1)
    for k in range(1, steps + 1):
        hazard = bass_hazard(p, q, adopted.mean())
        adopted |= rng.random(m) < 1.0 - exp(-hazard * dt)
        share[k] = adopted.mean()
    t = np.arange(steps + 1) * dt
    return BassResult(t, share, closed_form(t, p, q))
