"""Engagement and trust in leadership.

Engagement moves a fifth of the way each month toward a target set by (logit scale): value fit
(softened by ``inclusion``), pay against the market, growth (training and internal mobility),
autonomy (innovation time, with diminishing returns), workload above normal, trust in leadership,
peers' engagement and a personal disposition.

Trust in leadership builds slowly and falls fast (Slovic 1993): it moves toward its target at
``TRUST_UP`` a month when rising and ``TRUST_DOWN`` when falling. The target rises with
``transparency``, engagement, fair pay and peers' trust.

Hires start at ``HIRE_ENGAGEMENT`` and ``HIRE_TRUST``, a newcomer's goodwill that fades toward
the company's level over their first year. The founding staff have lived by these equations
since they joined: as the company is founded, their months are replayed (a founder with ``T``
months of tenure starting from a hire's levels ``T`` months before month 0, with their values;
see ``CultureModel._replay_founders``), so the first months show the scenario rather than every
founder starting as a newcomer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from culturesim.compiled import kernel
from culturesim.measure import fit_effect, value_fit
from culturesim.portable import exp, log1p
from culturesim.processes.skill import training_effect

if TYPE_CHECKING:
    from culturesim.model import CultureModel

ENGAGEMENT_RATE = 0.2
TRUST_UP = 0.05
TRUST_DOWN = 0.2
PEERS_DEFAULT = (0.65, 0.6)  # engagement and trust assumed of the peers of someone with no ties
# Engagement's logit per unit of log pay against the market. Pay also enters the quit hazard
# directly (outside offers) and trust; with this weight a 10% pay cut raises quits by about 40%
# and a 10% raise lowers them by about 25% in the baseline, near the quit elasticity of 2-3 of
# experimental and quasi-experimental studies (Naidu & Carr 2022; docs/ODD.md). It was 3.0,
# which made a 10% cut raise quits by 75%.
PAY_WEIGHT = 0.5
# Engagement's logit per unit of autonomy from innovation time (a guess). Innovation time is not
# the only autonomy a job gives, and autonomy predicts turnover weakly (Dysvik & Kuvaas 2013);
# at 0.8 a company without innovation time lost 21% of its staff a year, against 13% at 0.1.
AUTONOMY_WEIGHT = 0.3
# Where hires start (guesses): a newcomer's goodwill, above the baseline staff's 0.65 and 0.60,
# as job satisfaction peaks on joining and falls over the first year (the honeymoon-hangover
# effect: Boswell, Boudreau & Tichy 2005; Boswell et al. 2009; docs/ODD.md section 5).
HIRE_ENGAGEMENT = 0.7
HIRE_TRUST = 0.65


class Engagement:
    """Engagement and trust in leadership, from the conditions of work."""

    name = "engagement"

    def setup(self, model: CultureModel) -> None:
        """Nothing to set up: the founders' levels are replayed as the company is founded."""

    def step(self, model: CultureModel) -> None:
        """One month of engagement and trust dynamics (everyone reacts to last month's peers)."""
        update(model, model.employees.ids, model.levers, model.workload)


def update(
    model: CultureModel,
    ids: np.ndarray,
    lv: Mapping[str, float],
    workload: float,
    ties: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """One month's move of ``ids``' engagement and trust toward their targets.

    Args:
        model: The model.
        ids: Whose engagement and trust move (sorted slots).
        lv: The lever values in force.
        workload: Roadmap need over delivery capacity (above 1: overload).
        ties: CSR arrays ``(indptr, indices)`` of whose peers are whose; the alive ties if None.
    """
    e = model.employees
    if ids.size == 0:
        return
    growth = 0.6 * training_effect(lv["training_budget"]) + 0.4 * lv["internal_mobility"] - 0.3
    autonomy = 1.0 - exp(-lv["innovation_time"] / 0.1) - 0.5
    overload = max(0.0, workload - 1.0)
    indptr, indices = model.org.adjacency(e.alive) if ties is None else ties
    _engagement_step(
        ids, indptr, indices, e.engagement, e.trust, e.values, model.core,
        e.disposition, e.log_pay, log1p(lv["compensation_premium"]), lv["inclusion"],
        lv["transparency"], 0.3 + 1.0 * growth + AUTONOMY_WEIGHT * autonomy - 2.0 * overload,
        PAY_WEIGHT,
    )  # fmt: skip


@kernel
def _engagement_step(
    ids, indptr, indices, engagement, trust, values, core, disposition, log_pay, log_premium,
    inclusion, transparency, conditions, pay_weight,
):  # fmt: skip
    """Update engagement and trust of ``ids`` in place, everyone from last month's levels.

    ``conditions`` sums the company-wide terms; ``pay_weight`` weighs log pay against the market.
    """
    new_engagement = np.empty(ids.size)
    new_trust = np.empty(ids.size)
    for r, i in enumerate(ids):
        ties = indptr[i + 1] - indptr[i]
        peer_eng, peer_trust = PEERS_DEFAULT
        if ties:
            peer_eng = peer_trust = 0.0
            for p in range(indptr[i], indptr[i + 1]):  # by index: a slice view costs more
                j = indices[p]
                peer_eng += engagement[j]
                peer_trust += trust[j]
            peer_eng /= ties
            peer_trust /= ties
        fit = value_fit(values, i, core)
        pay = log_premium + log_pay[i]  # log of pay against the market
        eng, tru = engagement[i], trust[i]
        x = (
            conditions
            + disposition[i]
            + 4.0 * fit_effect(fit, inclusion)
            + pay_weight * pay
            + 2.0 * (tru - 0.6)
            + 1.5 * (peer_eng - 0.65)
        )
        new_engagement[r] = eng + ENGAGEMENT_RATE * (1.0 / (1.0 + exp(-x)) - eng)
        y = (
            0.4
            + 2.5 * (transparency - 0.5)
            + 1.5 * (eng - 0.65)
            + 2.0 * pay
            + 1.0 * (peer_trust - 0.6)
        )
        gap = 1.0 / (1.0 + exp(-y)) - tru
        new_trust[r] = tru + (TRUST_UP if gap > 0 else TRUST_DOWN) * gap
    for r, i in enumerate(ids):
        engagement[i] = new_engagement[r]
        trust[i] = new_trust[r]
