"""Struct-of-arrays populations: agents are rows with stable ids, an alive mask and room to grow.

A slot, once given, is never reused: the slot *is* the agent's id, so common random numbers can be
indexed by it and results can refer to it. Leavers keep their row (marked dead); capacity doubles
when full, so growth costs amortised O(1) per agent and nothing is ever reindexed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Field", "Population"]


@dataclass(frozen=True)
class Field:
    """A per-agent state variable.

    Attributes:
        dtype: NumPy dtype of the array.
        width: 0 for a scalar per agent, else the length of the per-agent vector.
        fill: Value of unused rows.
    """

    dtype: type | str
    width: int = 0
    fill: float = 0


class Population:
    """A population of agents held as arrays.

    Fields are read as attributes (``pop.skill``) and are full-capacity arrays: index them with
    ``pop.ids`` (the alive slots) or with slot arrays. Do not keep a field array across a call to
    :meth:`add`, which may reallocate.

    Args:
        fields: State variables by name.
        capacity: Initial room, in rows.
    """

    def __init__(self, fields: dict[str, Field], capacity: int = 256):
        self._fields = dict(fields)
        self.capacity = max(int(capacity), 1)
        self.n = 0  # slots handed out so far
        self.alive = np.zeros(self.capacity, dtype=bool)
        self._data: dict[str, np.ndarray] = {}
        for name, f in self._fields.items():
            self._set(name, self._alloc(f, self.capacity))
        self._ids: np.ndarray | None = None

    def _set(self, name: str, array: np.ndarray) -> None:
        """Hold ``array`` as field ``name``, readable as a plain attribute (no lookup hook)."""
        if name in type(self).__dict__ or name in ("n", "alive", "capacity"):
            raise ValueError(f"field name {name!r} clashes with a Population attribute")
        self._data[name] = array
        self.__dict__[name] = array

    @staticmethod
    def _alloc(f: Field, rows: int) -> np.ndarray:
        shape = (rows, f.width) if f.width else (rows,)
        return np.full(shape, f.fill, dtype=f.dtype)

    @property
    def count(self) -> int:
        """Number of alive agents."""
        return int(self.ids.size)

    @property
    def ids(self) -> np.ndarray:
        """Sorted slots of the alive agents (cached until the population changes)."""
        if self._ids is None:
            self._ids = np.flatnonzero(self.alive[: self.n])
        return self._ids

    def _grow(self, needed: int) -> None:
        new_cap = self.capacity
        while new_cap < needed:
            new_cap *= 2
        if new_cap == self.capacity:
            return
        for name, f in self._fields.items():
            old = self._data[name]
            new = self._alloc(f, new_cap)
            new[: self.n] = old[: self.n]
            self._set(name, new)
        alive = np.zeros(new_cap, dtype=bool)
        alive[: self.n] = self.alive[: self.n]
        self.alive = alive
        self.capacity = new_cap

    def add(self, count: int, **values: np.ndarray | float) -> np.ndarray:
        """Add ``count`` agents and return their new slots.

        Args:
            count: How many agents to add.
            **values: Initial values by field name (arrays of length ``count`` or scalars).

        Raises:
            KeyError: If a value names no field.
        """
        count = int(count)
        start = self.n
        self._grow(start + count)
        new = slice(start, start + count)  # new slots are consecutive: slices, not fancy indexing
        self.n = start + count
        self.alive[new] = True
        for name, value in values.items():
            if name not in self._data:
                raise KeyError(f"unknown field {name!r}; fields: {', '.join(self._data)}")
            self._data[name][new] = value
        self._ids = None
        return np.arange(start, start + count)

    def remove(self, ids: np.ndarray) -> None:
        """Mark agents as gone (their rows stay, so their ids are never reused)."""
        if len(ids):
            self.alive[ids] = False
            self._ids = None
