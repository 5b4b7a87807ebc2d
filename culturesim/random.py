"""Common random numbers: one stream per decision, indexed by agent slot, at a fixed place a month.

Every stochastic decision (who quits, who explores, which vacancy fills, ...) draws from its own
named stream. A stream is seeded from ``(run seed, decision name)`` and, for month ``t`` and part
``k``, restarts at the fixed position ``t * 2**40 + k * 2**32`` of that sequence. Draws are read by
agent slot: slot ``i`` always gets the ``i``-th number. Two scenarios run with the same seed
therefore share every draw for the same (decision, month, slot): they differ only where the policy
makes them differ, so paired comparisons are far less noisy, and a change that happens at month 24
leaves months 0-23 identical to the last bit.

The generator is NumPy's PCG64DXSM, computed here with Numba to the same numbers (a test holds
it to NumPy's), so that a kernel can read slot ``i``'s draw when its loop reaches ``i``
(:func:`cursor`) instead of taking an array of every slot's draw from Python.

This follows the common-random-numbers design of Starsim (Kerr et al. 2024); the code is our own.
"""

from __future__ import annotations

import hashlib

import numpy as np

from culturesim.compiled import kernel
from culturesim.portable import ndtri_of

__all__ = ["Stream", "Streams", "cursor", "raw_at", "uniform_at"]

_MONTH_STRIDE = 2**40
_PART_STRIDE = 2**32

# PCG64DXSM (O'Neill 2019), exactly as NumPy's ``np.random.PCG64DXSM``: a 128-bit LCG with
# the 64-bit "cheap" multiplier, output by the DXSM permutation of the state before the step.
# 128-bit numbers are (high, low) pairs of uint64; every constant is a uint64 (mixing uint64
# and int64 makes Numba compute in float64).
_CM = np.uint64(0xDA942042E4DD58B5)
_LOW32 = np.uint64(0xFFFFFFFF)
_S11, _S32, _S48 = np.uint64(11), np.uint64(32), np.uint64(48)
_ZERO, _ONE = np.uint64(0), np.uint64(1)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53: NumPy's double from the top 53 bits


def _name_key(name: str) -> int:
    """Stable 64-bit key for a decision name (Python's ``hash`` is salted per process)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def _position(month: int, part: int) -> int:
    """Where ``(month, part)`` starts in a stream's sequence (in 64-bit draws)."""
    return int(month) * _MONTH_STRIDE + int(part) * _PART_STRIDE


@kernel
def _mulhi(a, b):
    """High 64 bits of the 128-bit product of two uint64."""
    a0, a1 = a & _LOW32, a >> _S32
    b0, b1 = b & _LOW32, b >> _S32
    p00, p01, p10 = a0 * b0, a0 * b1, a1 * b0
    mid = (p00 >> _S32) + (p01 & _LOW32) + (p10 & _LOW32)
    return a1 * b1 + (p01 >> _S32) + (p10 >> _S32) + (mid >> _S32)


@kernel
def _mul128(ah, al, bh, bl):
    """``(ah, al) * (bh, bl)`` modulo 2**128."""
    return _mulhi(al, bl) + al * bh + ah * bl, al * bl


@kernel
def _add128(ah, al, bh, bl):
    """``(ah, al) + (bh, bl)`` modulo 2**128."""
    low = al + bl
    return ah + bh + (_ONE if low < al else _ZERO), low


@kernel
def _advance(sh, sl, ih, il, delta):
    """The state ``delta`` steps after ``(sh, sl)`` (Brown 1994's jump: O(log delta))."""
    mh, ml, ph, pl = _ZERO, _ONE, _ZERO, _ZERO  # the jump so far: state * m + p
    ch, cl, dh, dl = _ZERO, _CM, ih, il  # one step, then two, four, ...
    delta = np.uint64(delta)
    while delta:
        if delta & _ONE:
            mh, ml = _mul128(mh, ml, ch, cl)
            ph, pl = _mul128(ph, pl, ch, cl)
            ph, pl = _add128(ph, pl, dh, dl)
        th, tl = _add128(ch, cl, _ZERO, _ONE)
        dh, dl = _mul128(th, tl, dh, dl)
        ch, cl = _mul128(ch, cl, ch, cl)
        delta >>= _ONE
    sh, sl = _mul128(mh, ml, sh, sl)
    return _add128(sh, sl, ph, pl)


@kernel
def _step(sh, sl, ih, il):
    """The state after ``(sh, sl)``: ``state * multiplier + increment``."""
    return _add128(_mulhi(sl, _CM) + sh * _CM, sl * _CM, ih, il)


@kernel
def _next(sh, sl, ih, il):
    """One draw: the 64-bit output of state ``(sh, sl)`` and the next state."""
    out = sh ^ (sh >> _S32)
    out *= _CM
    out ^= out >> _S48
    out *= sl | _ONE
    nh, nl = _step(sh, sl, ih, il)
    return out, nh, nl


@kernel
def _raw(key, position, count):
    """``count`` 64-bit draws from ``position`` of the stream with ``key``."""
    out = np.empty(count, np.uint64)
    sh, sl = _advance(key[0], key[1], key[2], key[3], position)
    for i in range(count):
        out[i], sh, sl = _next(sh, sl, key[2], key[3])
    return out


@kernel
def _uniform(key, position, count):
    """``count`` uniforms in [0, 1) from ``position`` (NumPy's ``Generator.random``)."""
    out = np.empty(count)
    sh, sl = _advance(key[0], key[1], key[2], key[3], position)
    for i in range(count):
        r, sh, sl = _next(sh, sl, key[2], key[3])
        out[i] = np.float64(r >> _S11) * _TO_UNIT
    return out


@kernel
def cursor(key, position):
    """A cursor on the stream with ``key`` from ``position``, for drawing inside a kernel.

    Read it at increasing indices (slots) with :func:`raw_at` or :func:`uniform_at`: draw
    ``k`` is the stream's number at ``position + k``, the one :meth:`Stream.uniform` gives slot
    ``k``, without an array of every slot's draw and without a call per stream from Python.
    Each read returns the moved cursor: ``u, cur = uniform_at(cur, i)``. A cursor is a tuple,
    kept in registers: the generator's state (2 words), its increment (2) and the next index.
    """
    sh, sl = _advance(key[0], key[1], key[2], key[3], position)
    return (sh, sl, key[2], key[3], _ZERO)


def _jumps(longest: int) -> np.ndarray:
    """Row ``g``: the multiplier and the increment's factor of ``g`` steps at once (128-bit).

    ``g`` steps take state ``s`` to ``CM**g * s + inc * (1 + CM + ... + CM**(g-1))`` modulo
    2**128; the columns are those two numbers' high and low 64-bit halves.
    """
    out = np.zeros((longest + 1, 4), dtype=np.uint64)
    mask, mult, total = 2**128 - 1, 1, 0
    for g in range(longest + 1):
        out[g] = [mult >> 64, mult & (2**64 - 1), total >> 64, total & (2**64 - 1)]
        total = (total + mult) & mask
        mult = (mult * int(_CM)) & mask
    return out


_JUMPS = _jumps(64)  # gaps a cursor jumps in one step from the table (longer: _advance)
_LONGEST = np.uint64(_JUMPS.shape[0] - 1)


@kernel
def _jump(sh, sl, ih, il, g):
    """The state ``g`` steps (at most :data:`_LONGEST`) after ``(sh, sl)``, in one step."""
    row = _JUMPS[g]
    mh, ml = _mul128(row[0], row[1], sh, sl)
    ch, cl = _mul128(row[2], row[3], ih, il)
    return _add128(mh, ml, ch, cl)


@kernel
def _skip_to(cur, k):
    """The cursor moved to index ``k`` (not below its next index: that is an error).

    A gap of one draw is one step of the generator; one of up to 64 is jumped in one (two
    128-bit multiplications from a table instead of a chain of steps); a longer one is
    :func:`_advance`'s jump (O(log gap)).
    """
    sh, sl, ih, il, at = cur
    if k < at:  # a kernel reading slots out of order would get wrong draws silently
        raise ValueError("a stream cursor was read backwards (slots must be read in order)")
    gap = k - at
    if gap == _ONE:
        sh, sl = _step(sh, sl, ih, il)
    elif gap > _LONGEST:
        sh, sl = _advance(sh, sl, ih, il, gap)
    elif gap:
        sh, sl = _jump(sh, sl, ih, il, gap)
    return (sh, sl, ih, il, k)


@kernel
def raw_at(cur, k):
    """The ``k``-th 64-bit draw of cursor ``cur``, and the moved cursor.

    ``k`` must not be below the cursor's next index.
    """
    sh, sl, ih, il, _ = _skip_to(cur, np.uint64(k))
    out, sh, sl = _next(sh, sl, ih, il)
    return out, (sh, sl, ih, il, np.uint64(k) + _ONE)


@kernel
def uniform_at(cur, k):
    """The ``k``-th draw of cursor ``cur`` as a uniform in [0, 1), and the moved cursor."""
    out, cur = raw_at(cur, k)
    return np.float64(out >> _S11) * _TO_UNIT, cur


class Stream:
    """The random numbers of one decision.

    The generator is NumPy's PCG64DXSM, seeded through a ``SeedSequence`` of the run seed and
    the decision's name, and computed here (compiled) so that kernels can draw from it too
    (:func:`cursor`). A test checks it against NumPy's own, number for number.

    Args:
        seed: The run seed.
        name: The decision's name, e.g. ``"quit"``.
    """

    def __init__(self, seed: int, name: str):
        self.name = name
        bitgen = np.random.PCG64DXSM(np.random.SeedSequence([seed & (2**64 - 1), _name_key(name)]))
        state, inc = bitgen.state["state"]["state"], bitgen.state["state"]["inc"]
        words = [state >> 64, state & (2**64 - 1), inc >> 64, inc & (2**64 - 1)]
        self.key = np.array(words, dtype=np.uint64)  # state and increment as 64-bit halves

    def position(self, month: int, part: int = 0) -> int:
        """Where ``(month, part)`` starts: pass it with :attr:`key` to a kernel's :func:`cursor`."""
        return _position(month, part)

    def uniform(self, month: int, stop: int, part: int = 0, start: int = 0) -> np.ndarray:
        """Return the uniforms in [0, 1) of slots ``start .. stop-1`` (one 64-bit draw each).

        Slot ``i`` gets the same number whatever ``start`` and ``stop`` are, so drawing only for
        new slots costs O(new slots).
        """
        start = int(start)
        return _uniform(self.key, _position(month, part) + start, max(int(stop) - start, 0))

    def normal(self, month: int, stop: int, part: int = 0, start: int = 0) -> np.ndarray:
        """Return standard normals for slots ``start .. stop-1`` (inverse CDF of uniforms)."""
        return ndtri_of(self.uniform(month, stop, part, start))

    def matrix16(self, month: int, rows: int, cols: int, part: int = 0) -> np.ndarray:
        """Return a ``(rows, cols)`` uint16 matrix (uniform on 0..65535); row ``i`` is slot ``i``.

        Compare with ``p * 65536`` for a Bernoulli(p) draw; 16-bit resolution (1.5e-5) is plenty
        for monthly rates. The numbers are the stream's raw 64-bit draws cut in four (read
        little-endian, as on x86 and ARM), so slot ``i``'s row is the same whatever ``rows`` is.
        """
        size = int(rows) * int(cols)
        words = _raw(self.key, _position(month, part), -(-size // 4))
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
