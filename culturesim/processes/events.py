"""Scenario events, placed on Mesa's event list.

An event for month ``m`` is scheduled at time ``m - 0.5``: after the step of month ``m - 1`` and
before the step of month ``m`` (Mesa runs a step at time ``t`` before events at ``t``). Mesa keeps
only weak references to callbacks, so each event is an object that the model keeps alive and whose
bound method is scheduled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from culturesim.model import CultureModel
    from culturesim.scenario import Event

__all__ = ["ScheduledEvent", "schedule_events"]


class ScheduledEvent:
    """A scenario event bound to a model.

    Args:
        model: The model the event happens in.
        spec: The validated event from the scenario.
        index: Position in the scenario's event list (gives each event its own random part).
    """

    def __init__(self, model: CultureModel, spec: Event, index: int):
        self.model = model
        self.spec = spec
        self.index = index
        self.fired = False

    def fire(self) -> None:
        """Apply the event to the model."""
        from culturesim.processes import brand, partners, users

        spec, model = self.spec, self.model
        kind = spec.kind
        if kind == "set_lever":
            model.levers[spec.lever] = float(spec.value)
        elif kind == "layoff":
            model.lay_off(spec.share, part=1 + self.index)
        elif kind == "incident":
            users.incident(model, spec.severity)
            partners.incident(model, spec.severity)
            brand.incident(model, spec.severity)
        elif kind == "funding_round":
            model.raise_funding(spec.amount)
        elif kind == "market_shift":
            u = model.streams["market_shift"].uniform(
                model.month + 1, model.reality.size, self.index
            )
            model.reality[u < spec.turbulence] *= -1
            model.knowledge = float((model.code == model.reality).mean())
        elif kind == "poaching_wave":
            model.poaching.append((model.month + spec.duration, spec.intensity))
        elif kind in ("merger", "new_site"):
            values = np.array([spec.values[k] for k in model.value_names])
            model.open_site(spec.headcount, values, acquired=kind == "merger", part=self.index)
        elif kind == "leadership_change":
            model.core = np.array([spec.values[k] for k in model.value_names], dtype=float)
        self.fired = True


def schedule_events(model: CultureModel, events: list[Event]) -> list[ScheduledEvent]:
    """Schedule every event with Mesa and return the event objects (keep them alive)."""
    scheduled = []
    for i, spec in enumerate(events):
        ev = ScheduledEvent(model, spec, i)
        model.schedule_event(ev.fire, at=spec.month - 0.5)
        scheduled.append(ev)
    return scheduled
