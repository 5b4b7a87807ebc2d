"""An ECharts figure whose option the renderer passes along without walking through it.

Solara's components render through reacton, which walks every list and dict inside every
prop of every element looking for nested elements, and copies them as it goes, at every render
of a page. A chart's option is thousands of numbers in nested lists (24 band charts of 61
months; a network of hundreds of people and their ties), so that walk was most of the time a
page took to redraw: a month in the classroom took the server 79 ms, now 43 (of which the
model's own month is 10-15). :func:`Chart` hands the option over wrapped in :class:`Option`,
a read-only mapping that is not a ``dict``, so the walk passes it by; the widget sends the
plain ``dict`` to the browser as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import traitlets
from solara.components.echarts import EchartsWidget

__all__ = ["Chart", "Option", "OptionWidget"]


class Option(Mapping):
    """A chart option (a ``dict``) as a read-only mapping: equal when the options are equal."""

    __slots__ = ("value",)

    def __init__(self, value: dict):
        self.value = value

    def __getitem__(self, key: str) -> Any:
        return self.value[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.value)

    def __len__(self) -> int:
        return len(self.value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Option):
            return self.value == other.value
        return self.value == other

    __hash__ = None  # mutable inside, like the dict it wraps


def _to_json(option: Any, widget: Any) -> Any:
    """What the browser gets: the option's plain ``dict``."""
    return option.value if isinstance(option, Option) else option


class OptionWidget(EchartsWidget):
    """Solara's ECharts widget, sending an :class:`Option` as its plain ``dict``."""

    option = traitlets.Any({}).tag(sync=True, to_json=_to_json)


def Chart(option: dict, height: str):
    """An ECharts chart of ``option``, ``height`` high (any CSS length), in the page being drawn.

    A function, not a component: a component's element would keep the bare option among its
    arguments, where the walk would find it again.

    Args:
        option: The ECharts option, as :mod:`culturesim.ui.charts` builds it.
        height: The chart's height, e.g. ``"240px"`` or a ``clamp(...)``.
    """
    return OptionWidget.element(option=Option(option), attributes={"style": f"height: {height};"})
