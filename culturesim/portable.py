"""Portable math: exp, log, powers and the normal distribution, the same bits on every machine.

The C library's ``exp``, ``log``, ``log1p`` and ``pow`` are not one function everywhere: glibc
picks one of several by CPU (with FMA and AVX2 or without), macOS and Windows have their own, and
they round the last bit differently for some inputs; SciPy's ``ndtri`` and ``ndtr`` call them.
A last bit can part two runs (the model compares numbers with random draws: a hazard that
differs in its 17th digit can have someone quit in another month), and runs that should be
identical no longer are. On the development machine, with glibc held to its kernels for CPUs
without FMA and AVX2 (``GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA``, as on an older CPU or a
virtual machine that hides them), 3 of 22 runs of the shipped scenarios (seeds 0 and 3, 36
months) had KPIs that differed in their last bits from those of the same runs without.

So the model computes them here, from what IEEE 754 defines to the bit on every machine:
additions, multiplications, divisions and square roots (correctly rounded), exact scalings by
powers of two (``ldexp``, ``frexp``) and constants computed at import with :mod:`decimal` and
Python's exact integer arithmetic. They are Numba functions compiled without ``fastmath``, so
nothing is fused into an FMA or reordered; kernels call them (inlined), Python calls them as
functions (about 0.2 us a call). Ruff's banned-API rule keeps the C library's and SciPy's out of
the package (``pyproject.toml``).

Accuracy (checked by ``tests/test_portable.py`` against the C library and SciPy):

* :func:`exp` and :func:`log`: within 1 ulp. exp: ``x = (64 n + j) ln2 / 64 + r``, the step
  ln2 / 64 in two parts (Cody & Waite 1980), ``2 ** (j / 64)`` from a table in two parts and
  Taylor's series of ``e ** r`` to the 6th power (``|r| <= 0.0055``; Tang 1989's method); log:
  ``x = 2 ** k (1 + f)`` and Taylor's series of ``log(1 + f) = 2 atanh(s)``, ``s = f / (2 + f)``,
  to the 21st power of ``s``;
* :func:`log1p`: ``log(u) * x / (u - 1)`` with ``u = 1 + x`` (Goldberg 1991, Theorem 4), a few
  ulp;
* :func:`power`: for ``x >= 0``, by squaring for a whole ``y`` up to 1,024 in size, a square
  root for 1/2, else ``exp(y log x)``; relative error within about ``|y|`` ulp;
* :func:`ndtri`: Acklam's rational approximation of the normal quantile (relative error below
  1.15e-9: a draw's normal deviate is off by at most about 1e-8 standard deviations);
* :func:`ndtr`: Marsaglia's (2004) series for the normal distribution function, absolute error
  below 2e-15 (0 below -8.5 and 1 above 8.5, within 1e-17 of the truth).
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np

from culturesim.compiled import kernel

__all__ = ["exp", "log", "log1p", "ndtr", "ndtr_of", "ndtri", "ndtri_of", "power", "powers"]


#: exp's table: 2 ** (j / EXP_TABLE) for j in 0 .. EXP_TABLE - 1
EXP_TABLE = 64


def _upper_bits(value: Decimal, bits: int) -> float:
    """``value`` as a double with only its upper ``bits`` significant bits (the rest zero)."""
    word = struct.unpack("<Q", struct.pack("<d", float(value)))[0] & ~((1 << (53 - bits)) - 1)
    return struct.unpack("<d", struct.pack("<Q", word))[0]


def _constants() -> dict:
    """The constants, from exact arithmetic (the same double on every machine).

    A step of an argument reduction comes in two parts, ``hi + lo``: ``hi`` holds so few bits
    that ``k * hi`` is exact for every ``k`` it meets (Cody & Waite 1980).
    """
    with localcontext() as ctx:
        ctx.prec = 60
        ln2 = Decimal(2).ln()
        ln2_hi = _upper_bits(ln2, 32)  # log: k up to 1,075 (11 bits)
        step = ln2 / EXP_TABLE
        step_hi = _upper_bits(step, 29)  # exp: k up to 68,800 (17 bits)
        table = [(Decimal(j) * step).exp() for j in range(EXP_TABLE)]
        pi = Decimal("3.14159265358979323846264338327950288419716939937510582097494")
        return {
            "STEP_HI": step_hi,
            "STEP_LO": float(step - Decimal(step_hi)),
            "INV_STEP": float(1 / step),
            "TABLE_HI": [float(t) for t in table],
            "TABLE_LO": [float(t - Decimal(float(t))) for t in table],
            "LN2_HI": ln2_hi,
            "LN2_LO": float(ln2 - Decimal(ln2_hi)),
            "SQRT_HALF": float(Decimal("0.5").sqrt()),
            "LOG_SQRT_2PI": float((2 * pi).sqrt().ln()),
        }


_C = _constants()
LN2_HI, LN2_LO = _C["LN2_HI"], _C["LN2_LO"]
SQRT_HALF, LOG_SQRT_2PI = _C["SQRT_HALF"], _C["LOG_SQRT_2PI"]
STEP_HI, STEP_LO, INV_STEP = _C["STEP_HI"], _C["STEP_LO"], _C["INV_STEP"]
TABLE_HI, TABLE_LO = np.array(_C["TABLE_HI"]), np.array(_C["TABLE_LO"])
# exp's Taylor coefficients 1/k! and log's 2/(2k + 1), each correctly rounded from a fraction
E2, E3, E4, E5, E6 = (float(Fraction(1, math.factorial(k))) for k in range(2, 7))
L1, L2, L3, L4, L5, L6, L7, L8, L9, L10 = (float(Fraction(2, 2 * k + 1)) for k in range(1, 11))
#: 2 ** k for k in -1021 .. 1023 (normal doubles): exp scales by a multiplication (exact)
TWO_TO = np.array([float(Fraction(2) ** k) for k in range(-1021, 1024)])
#: exp overflows above this (the largest double is 2 ** 1024 * (1 - 2 ** -53))
EXP_OVERFLOW = 709.79
#: exp is 0 below this (half the smallest subnormal, 2 ** -1075, is exp(-745.13...))
EXP_UNDERFLOW = -746.0

# Acklam's approximation of the normal quantile (P. J. Acklam, "An algorithm for computing the
# inverse normal cumulative distribution function", 2003): a central and a tail rational function
A1, A2, A3 = -3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02
A4, A5, A6 = 1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00
B1, B2, B3 = -5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02
B4, B5 = 6.680131188771972e01, -1.328068155288572e01
C1, C2, C3 = -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00
C4, C5, C6 = -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00
D1, D2 = 7.784695709041462e-03, 3.224671290700398e-01
D3, D4 = 2.445134137142996e00, 3.754408661907416e00
P_LOW = 0.02425  # below it (and above 1 - P_LOW) the tail's function
NDTR_FAR = 8.5  # beyond it the normal distribution function is 0 or 1 to within 1e-17


@kernel
def exp(x):
    """``e ** x``, within 1 ulp, the same bits on every machine."""
    x = float(x)
    if x != x:
        return x
    if x > EXP_OVERFLOW:
        return np.inf
    if x < EXP_UNDERFLOW:
        return 0.0
    # x = (64 n + j) ln2 / 64 + r, |r| <= ln2 / 128: e**x = 2**n 2**(j/64) e**r
    k = math.floor(x * INV_STEP + 0.5)
    r = (x - k * STEP_HI) - k * STEP_LO
    r2 = r * r
    q = r + r2 * ((E2 + E3 * r) + r2 * ((E4 + E5 * r) + r2 * E6))  # e**r - 1 (Taylor)
    k = int(k)
    n, j = k >> 6, k & 63
    y = TABLE_HI[j] + (TABLE_LO[j] + TABLE_HI[j] * q)
    if -1021 <= n <= 1023:
        return y * TWO_TO[n + 1021]
    return math.ldexp(y, n)  # an overflow or a subnormal: rounded once, as exactly defined


@kernel
def log(x):
    """The natural logarithm, within 1 ulp; -inf at 0, NaN below."""
    x = float(x)
    if not x > 0.0:
        return -np.inf if x == 0.0 else np.nan
    if x == np.inf:
        return x
    m, e = math.frexp(x)  # x = m 2**e, 1/2 <= m < 1
    if m < SQRT_HALF:
        m = m + m
        e -= 1
    f = m - 1.0  # exact; -0.293 < f < 0.415
    s = f / (2.0 + f)
    z = s * s
    z2 = z * z  # the polynomial by Estrin's scheme: short dependency chains
    z4 = z2 * z2
    r = ((L1 + L2 * z) + z2 * (L3 + L4 * z)) + z4 * (
        ((L5 + L6 * z) + z2 * (L7 + L8 * z)) + z4 * (L9 + L10 * z)
    )
    r = r * z  # log(1 + f) = 2s + s r = f - s (f - r)
    k = float(e)
    return k * LN2_HI - ((s * (f - r) - k * LN2_LO) - f)


@kernel
def log1p(x):
    """``log(1 + x)``, accurate for small ``x`` too (a few ulp)."""
    x = float(x)
    if x == np.inf:
        return x
    u = 1.0 + x
    if u == 1.0:
        return x
    return log(u) * (x / (u - 1.0))


@kernel
def power(x, y):
    """``x ** y`` for ``x >= 0`` (NaN for a negative ``x``); 1 when ``y`` is 0."""
    x, y = float(x), float(y)
    if y == 0.0 or x == 1.0:
        return 1.0
    if x == 0.0:
        return 0.0 if y > 0.0 else np.inf
    if y == 0.5:
        return math.sqrt(x)  # correctly rounded
    if y == math.floor(y) and abs(y) <= 1024.0 and x == x:  # a whole power: by squaring
        n = int(abs(y))
        out, base = 1.0, x
        while n:
            if n & 1:
                out *= base
            base *= base
            n >>= 1
        return out if y > 0.0 else 1.0 / out
    return exp(y * log(x))


@kernel
def powers(a, y):
    """``a ** y`` element-wise (:func:`power`) as a new float64 array."""
    out = np.empty(a.size)
    for i in range(a.size):
        out[i] = power(a.flat[i], y)
    return out


@kernel
def ndtri(p):
    """The normal quantile: ``x`` with ``P(Z <= x) = p``; -inf at 0, inf at 1, NaN outside."""
    p = float(p)
    if not 0.0 < p < 1.0:
        if p == 0.0:
            return -np.inf
        return np.inf if p == 1.0 else np.nan
    if p < P_LOW or p > 1.0 - P_LOW:
        q = math.sqrt(-2.0 * log(p if p < 0.5 else 1.0 - p))
        x = (((((C1 * q + C2) * q + C3) * q + C4) * q + C5) * q + C6) / (
            (((D1 * q + D2) * q + D3) * q + D4) * q + 1.0
        )
        return x if p < 0.5 else -x
    q = p - 0.5
    r = q * q
    return (
        (((((A1 * r + A2) * r + A3) * r + A4) * r + A5) * r + A6)
        * q
        / (((((B1 * r + B2) * r + B3) * r + B4) * r + B5) * r + 1.0)
    )


@kernel
def ndtri_of(u):
    """:func:`ndtri` of each element of ``u``, as a new float64 array of its shape."""
    out = np.empty(u.shape)
    flat = out.reshape(-1)  # a view: writes go to ``out``
    for i in range(u.size):
        flat[i] = ndtri(u.flat[i])
    return out


@kernel
def ndtr(x):
    """The normal distribution function ``P(Z <= x)`` (absolute error below 2e-15)."""
    x = float(x)
    if x != x:
        return x
    if x < -NDTR_FAR:
        return 0.0
    if x > NDTR_FAR:
        return 1.0
    # Phi(x) = 1/2 + phi(x) (x + x^3/3 + x^5/(3 5) + ...), summed until a term no longer counts
    q = x * x
    s, t, b, i = x, 0.0, x, 1.0
    while s != t:
        t = s
        i += 2.0
        b *= q / i
        s = t + b
    return min(1.0, max(0.0, 0.5 + s * exp(-0.5 * q - LOG_SQRT_2PI)))


@kernel
def ndtr_of(x):
    """:func:`ndtr` of each element of ``x``, as a new float64 array of its shape."""
    out = np.empty(x.shape)
    flat = out.reshape(-1)
    for i in range(x.size):
        flat[i] = ndtr(x.flat[i])
    return out
