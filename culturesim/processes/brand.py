"""Brand: awareness, reputation and employer brand.

* **Awareness** is a goodwill stock (Nerlove & Arrow 1962): brand spend (with diminishing
  returns) and launches add to it, and it fades by ``AWARENESS_DECAY`` a month. It drives the
  external influence of user diffusion.
* **Reputation** moves toward a level set by users' NPS and recent launches; incidents cut it.
* **Employer brand** moves toward a level set by engagement, attrition, reputation, pay premium and
  brand spend. It drives applicant volume in hiring.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from culturesim.portable import log1p

if TYPE_CHECKING:
    from culturesim.model import CultureModel

AWARENESS_DECAY = 0.03
SPEND_SCALE = 50_000.0  # $ per month at which spend's effect is log(2) (guess)


class Brand:
    """Brand awareness, reputation and employer brand."""

    name = "brand"

    def setup(self, model: CultureModel) -> None:
        """Opening brand levels (awareness from the market's opening awareness)."""
        model.brand_awareness = float(model.config.market.initial_awareness)
        model.brand_reputation = 0.5
        model.employer_brand = 0.5

    def step(self, model: CultureModel) -> None:
        """One month of brand dynamics."""
        lv = model.levers
        spend = log1p(lv["brand_spend"] / SPEND_SCALE)
        a = model.brand_awareness
        push = 0.08 * spend + 0.02 * model.flows["launches"] + 20 * model.partner_reach["awareness"]
        model.brand_awareness = min(
            max(a + min(push, 1.0) * (1 - a) - AWARENESS_DECAY * a, 0.0), 1.0
        )
        rep_goal = reputation_goal(model.user_tally.nps, model.launch_rate)
        rep = model.brand_reputation
        model.brand_reputation = min(max(rep + 0.1 * (rep_goal - rep), 0.0), 1.0)
        hist = model.history["attrition_rate_annual"]
        eb_goal = employer_brand_goal(model, hist[-1] if hist else 0.13, lv)
        eb = model.employer_brand
        model.employer_brand = min(max(eb + 0.2 * (eb_goal - eb), 0.0), 1.0)


def reputation_goal(nps: float, launch_rate: float) -> float:
    """The level reputation moves toward: set by users' ``nps`` and recent launches."""
    return 0.5 + 0.3 * (nps / 100.0) + 0.1 * min(1.0, launch_rate)


def employer_brand_goal(
    model: CultureModel, attrition: float, levers: Mapping[str, float]
) -> float:
    """The level employer brand moves toward.

    Set by the staff's mean engagement, ``attrition`` (annual), reputation, and the pay premium
    and brand spend of ``levers``.
    """
    e = model.employees
    eng = float(e.engagement[e.ids].mean()) if e.count else 0.5
    return (
        0.5
        + 1.0 * (eng - 0.65)
        - 1.0 * (attrition - 0.13)
        + 0.3 * (model.brand_reputation - 0.5)
        + levers["compensation_premium"]
        + 0.05 * log1p(levers["brand_spend"] / SPEND_SCALE)
    )


def incident(model: CultureModel, severity: float) -> None:
    """An AI incident cuts reputation, less under high transparency."""
    cut = severity * 0.3 * (1.0 - 0.5 * model.levers["transparency"])
    model.brand_reputation = float(max(0.0, model.brand_reputation - cut))
