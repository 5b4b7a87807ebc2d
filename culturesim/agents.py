"""Mesa agents as thin handles over population rows.

An :class:`Employee` holds only its slot; every attribute reads the model's arrays, so the handle is
always current and costs nothing to keep in sync. Handles follow hires and departures (brought up to
date when ``model.agents`` is read), so ``model.agents`` is the current staff, the Mesa way. An
employee's ``unique_id`` is given at hire, in hiring order, partners' when they join: the same
person has the same id in every run of a scenario and seed, however often anyone looked at the
agents. The Mesa way too, ``agent.remove()`` takes an employee out of the company or ends a
partnership, not only the handle. A :class:`User` handle is a view made on demand: users are rows
(up to millions), not among ``model.agents``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from culturesim.model import CultureModel

__all__ = ["Employee", "Partner", "RowAgent", "User"]


class RowAgent(mesa.Agent):
    """A Mesa agent that is a view of one row (slot) of a population held in arrays.

    Args:
        model: The model the agent belongs to.
        slot: The agent's row (stable id) in its population.
    """

    model: CultureModel

    def __init__(self, model: CultureModel, slot: int):
        super().__init__(model)
        self.slot = int(slot)


class Employee(RowAgent):
    """An employee: a view of one row of ``model.employees``."""

    def _get(self, field: str):
        return getattr(self.model.employees, field)[self.slot]

    @property
    def alive(self) -> bool:
        """Whether the employee still works at the company."""
        return bool(self.model.employees.alive[self.slot])

    @property
    def site(self) -> int:
        """Site (office or region) index."""
        return int(self._get("site"))

    @property
    def team(self) -> int:
        """Team index."""
        return int(self._get("team"))

    @property
    def is_manager(self) -> bool:
        """Whether the employee manages their team."""
        return bool(self._get("is_manager"))

    @property
    def tenure_months(self) -> float:
        """Months since hire."""
        return float(self._get("tenure"))

    @property
    def skill(self) -> float:
        """Skill in [0, 1]."""
        return float(self._get("skill"))

    @property
    def engagement(self) -> float:
        """Engagement in [0, 1]."""
        return float(self._get("engagement"))

    @property
    def trust(self) -> float:
        """Trust in leadership in [0, 1]."""
        return float(self._get("trust"))

    @property
    def values(self) -> np.ndarray:
        """Values, one entry per core value dimension (a copy)."""
        return self._get("values").copy()

    @property
    def alignment(self) -> float:
        """Fit of the employee's values with the core values (1 = identical)."""
        return float(1.0 - np.abs(self._get("values") - self.model.core).mean())

    def remove(self) -> None:
        """Let the employee go, as Mesa's ``agent.remove()`` takes an agent out of the model.

        They leave the company as a laid-off employee does (counted in ``layoffs`` of the
        month running, or of the next month when called between steps; their peers notice the
        departure, a team left without its manager gets one), and their handle leaves
        ``model.agents``. Removing the handle alone would leave them working, unseen.
        """
        if self.alive:
            self.model.remove_employees(np.array([self.slot]), "layoffs")
        self.model._handles.pop(self.slot, None)
        super().remove()

    def __repr__(self) -> str:
        return (
            f"Employee(slot={self.slot}, team={self.team}, site={self.site}, "
            f"tenure={self.tenure_months:.0f}, engagement={self.engagement:.2f})"
        )


class Partner(RowAgent):
    """A partner (university, investor, open-source community, channel): a row of ``partners``."""

    @property
    def kind(self) -> str:
        """``university``, ``investor``, ``open_source`` or ``channel``."""
        from culturesim.processes.partners import KIND_NAMES

        return KIND_NAMES[int(self.model.partners.kind[self.slot])]

    @property
    def strength(self) -> float:
        """Relationship strength in [0, 1]."""
        return float(self.model.partners.strength[self.slot])

    @property
    def trust(self) -> float:
        """The partner's trust in the company, in [0, 1]."""
        return float(self.model.partners.trust[self.slot])

    def remove(self) -> None:
        """End the partnership, as Mesa's ``agent.remove()`` takes an agent out of the model.

        The partner no longer contributes (ideas, reach, funding) from the next month on, and
        its handle leaves ``model.agents``.
        """
        self.model.partners.remove(np.array([self.slot]))
        self.model._partner_handles.pop(self.slot, None)
        super().remove()

    def __repr__(self) -> str:
        return f"Partner(slot={self.slot}, kind={self.kind}, strength={self.strength:.2f})"


class User(RowAgent):
    """A user: a view of one row of ``model.users``, made on demand (users are many).

    Not one of ``model.agents`` (nor of ``agents_by_type``), and with no ``unique_id``: a
    user looked at would otherwise join the staff and partners there, and take the next id.
    """

    STATES = ("prospect", "active", "churned")

    @property
    def state(self) -> str:
        """``prospect``, ``active`` or ``churned``."""
        return self.STATES[int(self.model.users.state[self.slot])]

    @property
    def aware(self) -> bool:
        """Whether the user knows the product."""
        return bool(self.model.users.aware[self.slot])

    @property
    def trust(self) -> float:
        """Trust in the company, in [0, 1]."""
        return float(self.model.users.trust[self.slot])

    @property
    def satisfaction(self) -> float:
        """Satisfaction with the product, in [0, 1]."""
        return float(self.model.users.satisfaction[self.slot])

    def __repr__(self) -> str:
        return f"User(slot={self.slot}, state={self.state}, trust={self.trust:.2f})"
