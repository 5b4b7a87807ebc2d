"""Finance: payroll, lever costs, revenue, cash and runway; layoffs when cash runs short.

Costs are the market-median payroll of the current staff (pay rises with skill) plus overhead,
plus every lever's *cash* cost (:mod:`culturesim.levers`; the pay premium is one of them). Revenue
is the active users (at the start of the month) times ``market.price_per_user_month``. When runway
falls below
``organization.layoff_runway_months`` the company lays off enough staff to stretch runway back to
the hiring-freeze level (at most 30% at once).

The model has no insolvency: cash may fall below zero, and the company runs on as if the
shortfall were borrowed, with a runway of 0 (so the growth plan stops, and it lays off while it
burns cash) until cash is above zero again. The first time in a run, it gives notice
(:class:`~culturesim.notices.NegativeCashWarning`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from culturesim.kpis import format_number
from culturesim.levers import LEVERS, CostContext
from culturesim.notices import NegativeCashWarning, notify

if TYPE_CHECKING:
    from culturesim.model import CultureModel

RUNWAY_CAP = 120.0
MAX_LAYOFF_SHARE = 0.3


def market_payroll(model: CultureModel) -> float:
    """Monthly payroll of the current staff at the market median for their skill, in $."""
    e = model.employees
    salary = model.config.organization.salary_per_year / 12.0
    return float(salary * np.sum(0.8 + 0.4 * e.skill[e.ids]))


def monthly_costs(model: CultureModel, hires: float) -> tuple[float, float]:
    """Return (total cash costs, market payroll) for this month, in $."""
    payroll = market_payroll(model)
    ctx = CostContext(headcount=model.headcount, market_payroll=payroll, hires=hires)
    lever_cash = sum(
        lever.monthly_cost(model.levers[name], ctx)
        for name, lever in LEVERS.items()
        if lever.cost_kind == "cash"
    )
    overhead = model.config.organization.overhead_rate
    return payroll * (1.0 + overhead) + lever_cash, payroll


class Finance:
    """Cash flow and runway, month by month."""

    name = "finance"

    def setup(self, model: CultureModel) -> None:
        """Set the opening cash and revenue, and the founding staff's monthly costs."""
        self.noticed = False  # the run has given notice of cash below zero
        model.cash = float(model.config.organization.cash)
        model.funding_raised = 0.0  # since month 0: rounds of investors and funding_round events
        market = model.config.market
        model.revenue = float(market.initial_active_users * market.price_per_user_month)
        model.costs, _ = monthly_costs(model, 0.0)
        model.runway = runway(model.cash, model.costs - model.revenue)
        model.last_hires = 0.0

    def step(self, model: CultureModel) -> None:
        """Pay the month's costs, book revenue, and lay off if runway is too short."""
        model.revenue = float(model.users_active * model.config.market.price_per_user_month)
        costs, _ = monthly_costs(model, model.last_hires)
        model.costs = costs
        model.cash += model.revenue - costs
        model.runway = runway(model.cash, costs - model.revenue)
        if model.cash < 0 and not self.noticed:
            self.noticed = True
            notify(
                model,
                NegativeCashWarning,
                f"cash fell below zero (−${format_number(-model.cash)}), and the model has no "
                "insolvency: it runs on as if the shortfall were borrowed",
            )
        org = model.config.organization
        burn = costs - model.revenue
        if burn > 0 and model.runway < org.layoff_runway_months and model.headcount > 1:
            target_burn = max(model.cash, 0.0) / max(org.hiring_freeze_runway_months, 1.0)
            share = min(MAX_LAYOFF_SHARE, (burn - target_burn) / costs)
            if share > 0:
                model.lay_off(share)


def runway(cash: float, burn: float) -> float:
    """Months of runway: cash / monthly net burn, capped; no burn gives the cap, no cash 0.

    Cash below zero is no runway, burning or not: a company in the red is out of money.
    """
    if cash < 0:
        return 0.0
    if burn <= 0:
        return RUNWAY_CAP
    return min(cash / burn, RUNWAY_CAP)
