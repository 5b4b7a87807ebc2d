"""Compiled kernels: where one loop over the staff beats a chain of array expressions.

Most of culturesim is NumPy array expressions. A month at 10,000 employees is nonetheless about
a thousand passes over arrays of 20,000-30,000 rows, each allocating its result, and network
work (building the adjacency, breadth-first search) is a chain of sorts and scatters. Where a
process's per-person arithmetic or a graph walk is on the hot path it is written once as a loop
compiled with Numba: one pass, no temporaries. The loop reads like the equations it replaces, and
the module docstrings keep the equations.

Kernels are compiled on first use and cached on disk (``cache=True``, next to the module in
``__pycache__``), so only the first run on a machine pays the compile time (about ten seconds
for all of them). They are compiled without ``fastmath``: the compiler keeps the order of
floating-point operations as written, so a run is reproducible to the bit on a machine.
"""

from __future__ import annotations

from numba import njit

__all__ = ["kernel"]


def kernel(fn):
    """Compile ``fn`` with Numba in nopython mode, cached on disk."""
    return njit(cache=True)(fn)
