"""Common random numbers: one stream per decision, indexed by agent slot, at a fixed place a month.

Every stochastic decision (who quits, who explores, which vacancy fills, ...) draws from its own
named stream. A stream is seeded from ``(run seed, decision name)`` and, for month ``t`` and part
``k``, restarts at the fixed position ``t * 2**40 + k * 2**32`` of that sequence. Draws are read by
agent slot: slot ``i`` always gets the ``i``-th number. Two scenarios run with the same seed
therefore share every draw for the same (decision, month, slot): they differ only where the policy
makes them differ, so paired comparisons are far less noisy, and a change that happens at month 24
leaves months 0-23 identical to the last bit.

This follows the common-random-numbers design of Starsim (Kerr et al. 2024); the code is our own.
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy.special import ndtri

__all__ = ["Stream", "Streams"]

_MONTH_STRIDE = 2**40
_PART_STRIDE = 2**32


def _name_key(name: str) -> int:
    """Stable 64-bit key for a decision name (Python's ``hash`` is salted per process)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def _position(month: int, part: int) -> int:
    """Where ``(month, part)`` starts in a stream's sequence (in 64-bit draws)."""
    return int(month) * _MONTH_STRIDE + int(part) * _PART_STRIDE


class Stream:
    """The random numbers of one decision.

    Args:
        seed: The run seed.
        name: The decision's name, e.g. ``"quit"``.
    """

    def __init__(self, seed: int, name: str):
        self.name = name
        bitgen = np.random.PCG64DXSM(np.random.SeedSequence([seed & (2**64 - 1), _name_key(name)]))
        self._base = bitgen.state
        self._bitgen = bitgen
        self._gen = np.random.Generator(bitgen)
        self._position: int | None = 0  # 64-bit words drawn since the start (None: unknown)

    def at(self, month: int, part: int = 0) -> np.random.Generator:
        """Return the stream's generator positioned at the start of ``(month, part)``.

        The returned generator is shared: draw from it before calling ``at`` again.
        """
        gen = self._seek(_position(month, part))
        self._position = None  # the caller draws an unknown amount
        return gen

    def _seek(self, position: int) -> np.random.Generator:
        """Move the generator to ``position``: forward from where it is, else from the start.

        Resetting the state costs more than advancing, and most draws move forward.
        """
        here = self._position
        if here is None or position < here:
            self._bitgen.state = self._base
            here = 0
        self._bitgen.advance(position - here)
        self._position = position
        return self._gen

    def uniform(self, month: int, stop: int, part: int = 0, start: int = 0) -> np.ndarray:
        """Return the uniforms in [0, 1) of slots ``start .. stop-1`` (one 64-bit draw each).

        Slot ``i`` gets the same number whatever ``start`` and ``stop`` are, so drawing only for
        new slots costs O(new slots).
        """
        start = int(start)
        count = max(int(stop) - start, 0)
        gen = self._seek(_position(month, part) + start)
        self._position += count  # one 64-bit word per double
        return gen.random(count)

    def normal(self, month: int, stop: int, part: int = 0, start: int = 0) -> np.ndarray:
        """Return standard normals for slots ``start .. stop-1`` (inverse CDF of uniforms)."""
        return ndtri(self.uniform(month, stop, part, start))

    def matrix16(self, month: int, rows: int, cols: int, part: int = 0) -> np.ndarray:
        """Return a ``(rows, cols)`` uint16 matrix (uniform on 0..65535); row ``i`` is slot ``i``.

        Compare with ``p * 65536`` for a Bernoulli(p) draw; 16-bit resolution (1.5e-5) is plenty
        for monthly rates. The numbers are the stream's raw 64-bit draws cut in four (read
        little-endian, as on x86 and ARM), so slot ``i``'s row is the same whatever ``rows`` is.
        """
        size = int(rows) * int(cols)
        self._seek(_position(month, part))
        self._position += -(-size // 4)
        words = self._bitgen.random_raw(-(-size // 4))  # four 16-bit numbers per 64-bit draw
        return words.view(np.uint16)[:size].reshape(int(rows), int(cols))


class Streams:
    """The named streams of one run, created on first use.

    Args:
        seed: The run seed (a non-negative integer).
    """

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._streams: dict[str, Stream] = {}

    def __getitem__(self, name: str) -> Stream:
        """Return the stream for decision ``name``."""
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = Stream(self.seed, name)
        return stream
