"""Harrison & Carroll (1991): cultural transmission in formal organizations — a reconstruction.

The published equations could not be confirmed from the sources available here, so this is a
documented reconstruction of the model's structure as the paper describes it, not a copy:

* each member has an enculturation ``e`` in [0, 1];
* newcomers are hired with enculturation drawn from the applicant pool (uniform on [0, 0.6]) and
  screened by ``selectivity`` (hires come from above the ``selectivity`` quantile of the pool);
* each period members are socialized by management (``management`` x (1 - e), fading with tenure
  at ``fade``) and by coworkers (``coworkers`` x (mean e - e)), and enculturation decays at
  ``decay`` without reinforcement;
* members leave with a base chance ``turnover`` that is higher for the less enculturated
  (x (1.5 - e)); the organization grows at ``growth`` a period (negative: declines, by not
  replacing leavers and, if needed, by cutting the least enculturated).

The result is mean enculturation over time. The paper's findings it must show: an equilibrium
under fixed turnover and growth; lower enculturation in growth and higher in decline; higher with
more selective hiring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from culturesim.portable import exp

__all__ = ["HCResult", "simulate"]

POOL = 0.6  # the best fit an outside applicant brings (a guess: outsiders are not enculturated)


@dataclass
class HCResult:
    """Mean enculturation and size over time."""

    enculturation: np.ndarray
    size: np.ndarray


def simulate(
    n: int = 200,
    periods: int = 200,
    selectivity: float = 0.5,
    management: float = 0.15,
    coworkers: float = 0.05,
    decay: float = 0.02,
    fade: float = 0.02,
    turnover: float = 0.1,
    growth: float = 0.0,
    seed: int = 0,
) -> HCResult:
    """Run the reconstruction.

    Args:
        n: Members at the start.
        periods: Periods to run.
        selectivity: Screening of hires (0: any applicant, 1: only the best).
        management: Socialization by management per period.
        coworkers: Socialization by coworkers per period.
        decay: Decay of enculturation per period.
        fade: Rate at which management socialization fades with tenure.
        turnover: Base chance a member leaves in a period.
        growth: Growth of the organization per period (negative for decline).
        seed: Random seed.
    """
    rng = np.random.default_rng(seed)

    def hire(k: int) -> np.ndarray:
        # applicants' fit is uniform on [0, POOL]; screening keeps the top (1 - selectivity)
        return POOL * (selectivity + (1.0 - selectivity) * rng.random(k))

    e = hire(n)
    tenure = np.zeros(n)
    target = float(n)
    mean_e, size = [float(e.mean())], [n]
    # management's fade by whole periods of tenure (the same last bits on any machine)
    faded = np.array([exp(-fade * k) for k in range(periods + 1)])
    for _ in range(periods):
        by_manager = management * faded[tenure.astype(np.int64)] * (1.0 - e)
        social = by_manager + coworkers * (e.mean() - e)
        e = np.clip(e + social - decay * e, 0.0, 1.0)
        tenure += 1
        stay = rng.random(e.size) >= turnover * (1.5 - e)
        e, tenure = e[stay], tenure[stay]
        target *= 1.0 + growth
        need = round(target) - e.size
        if need > 0:
            e = np.concatenate([e, hire(need)])
            tenure = np.concatenate([tenure, np.zeros(need)])
        elif need < 0:  # decline beyond attrition: the least enculturated go first
            keep = np.argsort(e)[-need:]
            e, tenure = e[keep], tenure[keep]
        mean_e.append(float(e.mean()) if e.size else 0.0)
        size.append(int(e.size))
    return HCResult(np.array(mean_e), np.array(size))
