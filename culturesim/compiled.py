"""Compiled kernels: where one loop over the staff beats a chain of array expressions.

Most of culturesim is NumPy array expressions. A month at 10,000 employees is nonetheless about
a thousand passes over arrays of 20,000-30,000 rows, each allocating its result, and network
work (building the adjacency, breadth-first search) is a chain of sorts and scatters. Where a
process's per-person arithmetic or a graph walk is on the hot path it is written once as a loop
compiled with Numba: one pass, no temporaries. The loop reads like the equations it replaces, and
the module docstrings keep the equations.

Two things cost more than they look inside a kernel, and each was worth a 2x on a hot loop:

* **Row views.** ``values[i]`` (a row of a 2-D array) and writing through one (``out[r] = ...``,
  ``row[:] = v``) make an array object each time; pass the array and the row index instead
  (``value_fit(values, i, core)``, ``deffuant_update(x, i, other, j, ...)``) and loop over the
  columns.
* **Branches on random draws.** ``if draw < p: ... elif ...`` per (person, dimension) is
  mispredicted as often as the draws say; write the choice as selects
  (``b = x if draw < p else b``), which the compiler turns into branch-free code.

Kernels are compiled on first use and cached on disk (``cache=True``, next to the module in
``__pycache__``), so only the first run on a machine pays the compile time (about ten seconds
for all of them). They are compiled without ``fastmath``: the compiler keeps the order of
floating-point operations as written, so a run is reproducible to the bit on a machine.

Numba checks a cached kernel against its own source file only: a kernel that calls a kernel
from another module (``value_fit``, ``group_by``, the random streams' cursors) keeps the old
callee compiled in after that module changes, say after a ``git pull`` or checkout, and would
silently compute with old code. So when this module is imported it compares a digest of the
package's sources with the one its caches were made from, and drops every cached kernel of the
package if they differ (:func:`drop_stale_caches`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import numpy as np
from numba import njit

__all__ = ["drop_stale_caches", "group_by", "kernel"]

_PACKAGE = Path(__file__).resolve().parent


def drop_stale_caches(package: Path = _PACKAGE) -> bool:
    """Delete the package's cached kernels if its sources changed since they were compiled.

    The digest of every ``.py`` file under ``package`` is kept in
    ``__pycache__/kernels.digest``; caches in Numba's user-wide directory (used when the
    package's folder is read-only: an installed release, replaced whole on upgrade, which
    Numba's own check handles) are not touched.

    Returns:
        Whether caches were dropped.
    """
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    stamp = package / "__pycache__" / "kernels.digest"
    try:
        if stamp.read_text() == digest.hexdigest():
            return False
    except OSError:
        pass
    for cached in [*package.rglob("*.nbi"), *package.rglob("*.nbc")]:
        with contextlib.suppress(OSError):  # another process dropped it first, or read-only
            cached.unlink()
    try:
        stamp.parent.mkdir(exist_ok=True)
        temporary = stamp.with_name(f"kernels.digest.{os.getpid()}")
        temporary.write_text(digest.hexdigest())
        temporary.replace(stamp)  # atomic: a process reading it sees a whole digest
    except OSError:
        pass
    return True


drop_stale_caches()


def kernel(fn):
    """Compile ``fn`` with Numba in nopython mode, cached on disk."""
    return njit(cache=True)(fn)


@kernel
def group_by(keys, n_keys):
    """Group positions by key with a counting sort (stable, O(n + n_keys)).

    Args:
        keys: A key in ``0 .. n_keys - 1`` for each position.
        n_keys: Number of possible keys.

    Returns:
        ``start`` (``n_keys + 1`` offsets) and ``order``: the positions with key ``k`` are
        ``order[start[k]:start[k + 1]]``, in their original order.
    """
    start = np.zeros(n_keys + 1, np.int64)
    for k in keys:
        start[k + 1] += 1
    for k in range(n_keys):
        start[k + 1] += start[k]
    cursor = start[:-1].copy()
    order = np.empty(keys.size, np.int64)
    for i in range(keys.size):
        order[cursor[keys[i]]] = i
        cursor[keys[i]] += 1
    return start, order
