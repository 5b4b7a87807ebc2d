"""culturesim.portable: exp, log, powers and the normal distribution from IEEE arithmetic only.

Checked against the C library (``math``, correctly rounded but for rare cases) and SciPy, and
for the same bits in a process whose C library picks other kernels.
"""

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.special import ndtr as scipy_ndtr
from scipy.special import ndtri as scipy_ndtri

from culturesim import portable

RNG = np.random.default_rng(20261202)


def ulps(a, b) -> np.ndarray:
    """Distance in units in the last place between same-signed doubles ``a`` and ``b``."""
    return np.abs(np.asarray(a, float).view(np.int64) - np.asarray(b, float).view(np.int64))


def each(fn, *args) -> np.ndarray:
    return np.array([fn(*v) for v in zip(*args, strict=True)])


EXP_X = np.concatenate([
    RNG.uniform(-708, 709.7, 20_000), RNG.uniform(-3, 3, 20_000), RNG.uniform(-1e-9, 1e-9, 2_000),
    [0.0, -0.0, 1.0, -1.0, 0.5 * math.log(2), 709.78, -708.3],
])  # fmt: skip
LOG_X = np.concatenate([
    np.array([math.exp(v) for v in RNG.uniform(-700, 700, 20_000)]),
    RNG.uniform(0.5, 2.0, 20_000), 1.0 + RNG.uniform(-1e-9, 1e-9, 2_000),
    [5e-324, 1e-310, 2.2250738585072014e-308, 0.5, 1.0, 2.0, 1.7976931348623157e308],
])  # fmt: skip


def test_exp_and_log_are_within_one_ulp_of_the_c_library():
    assert ulps(each(portable.exp, EXP_X), each(math.exp, EXP_X)).max() <= 1
    assert ulps(each(portable.log, LOG_X), each(math.log, LOG_X)).max() <= 1
    subnormal = RNG.uniform(-745, -708.4, 2_000)  # results below 2**-1022: absolute error
    diff = np.abs(each(portable.exp, subnormal) - each(math.exp, subnormal))
    assert diff.max() <= 5e-324


def test_log1p_and_power_are_accurate():
    x = np.concatenate([RNG.uniform(-0.999, 10, 20_000), RNG.uniform(-1e-8, 1e-8, 2_000),
                        10.0 ** RNG.uniform(-300, 300, 2_000)])  # fmt: skip
    assert ulps(each(portable.log1p, x), each(math.log1p, x)).max() <= 2
    base, y = RNG.uniform(0, 3, 20_000), RNG.uniform(-20, 20, 20_000)
    mine, ref = each(portable.power, base, y), base**y
    # exp(y log x): the relative error grows with |y log x| (at most about 22 here)
    assert (np.abs(mine - ref) / ref).max() < 3e-14
    whole, base = RNG.integers(-200, 201, 20_000).astype(float), RNG.uniform(0.5, 1.5, 20_000)
    mine, ref = each(portable.power, base, whole), base**whole  # by squaring
    assert (np.abs(mine - ref) / ref).max() < 1e-13
    assert portable.power(2.0, 10.0) == 1024.0 and portable.power(9.0, 0.5) == 3.0
    a = np.arange(1.0, 1001.0)
    assert np.array_equal(
        portable.powers(a, -0.75), each(portable.power, a, np.full(a.size, -0.75))
    )


def test_normal_quantile_and_distribution_function_are_accurate():
    u = np.concatenate([RNG.uniform(0, 1, 100_000), 10.0 ** RNG.uniform(-300, -1, 5_000),
                        1.0 - RNG.uniform(0, 1e-10, 1_000), [0.5, 0.02425, 0.97575]])  # fmt: skip
    mine = portable.ndtri_of(u)
    ref = scipy_ndtri(u)
    assert np.nanmax(np.abs(mine - ref) / np.maximum(np.abs(ref), 1e-300)) < 1.2e-9  # Acklam's
    assert np.all(np.diff(portable.ndtri_of(np.linspace(1e-6, 1 - 1e-6, 100_001))) > 0)
    z = np.concatenate([RNG.uniform(-9, 9, 100_000), [-8.5, 8.5, 0.0]])
    assert np.abs(portable.ndtr_of(z) - scipy_ndtr(z)).max() < 2e-15
    uniforms = RNG.uniform(0, 1, (50, 3))
    assert portable.ndtri_of(uniforms).shape == (50, 3)
    assert np.array_equal(portable.ndtri_of(uniforms).ravel(), portable.ndtri_of(uniforms.ravel()))


@pytest.mark.parametrize(
    ("fn", "args", "expected"),
    [
        (portable.exp, (math.nan,), math.nan), (portable.exp, (math.inf,), math.inf),
        (portable.exp, (-math.inf,), 0.0), (portable.exp, (710.0,), math.inf),
        (portable.exp, (-746.0,), 0.0), (portable.exp, (0.0,), 1.0),
        (portable.log, (0.0,), -math.inf), (portable.log, (-1.0,), math.nan),
        (portable.log, (math.inf,), math.inf), (portable.log, (1.0,), 0.0),
        (portable.log1p, (-1.0,), -math.inf), (portable.log1p, (-2.0,), math.nan),
        (portable.log1p, (math.inf,), math.inf), (portable.log1p, (1e-300,), 1e-300),
        (portable.power, (0.0, 2.0), 0.0), (portable.power, (0.0, -1.0), math.inf),
        (portable.power, (0.0, 0.0), 1.0), (portable.power, (-2.0, 0.5), math.nan),
        (portable.ndtri, (0.0,), -math.inf), (portable.ndtri, (1.0,), math.inf),
        (portable.ndtri, (0.5,), 0.0), (portable.ndtri, (1.5,), math.nan),
        (portable.ndtr, (-40.0,), 0.0), (portable.ndtr, (40.0,), 1.0), (portable.ndtr, (0.0,), 0.5),
        (portable.ndtr, (math.nan,), math.nan),
    ],
)  # fmt: skip
def test_special_values(fn, args, expected):
    got = fn(*args)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


CODE = """
import sys
import numpy as np
from culturesim import portable
rng = np.random.default_rng(7)
x = np.concatenate([rng.uniform(-700, 700, 50_000), rng.uniform(-2, 2, 50_000)])
u = rng.uniform(0, 1, 100_000)
out = [
    [portable.exp(v) for v in x], [portable.log(abs(v)) for v in x],
    [portable.log1p(abs(v)) for v in x], [portable.power(abs(v), 0.37) for v in x],
    portable.ndtri_of(u), portable.ndtr_of(x[50_000:]),
]
import math
from scipy.special import ndtri
libm = [[math.exp(v) for v in x], [math.log(abs(v)) for v in x], ndtri(u)]
np.save(sys.argv[1], np.concatenate([np.asarray(a, float) for a in out]))
np.save(sys.argv[2], np.concatenate([np.asarray(a, float) for a in libm]))
"""


def test_the_same_bits_whichever_kernels_the_c_library_picks(tmp_path):
    """glibc held to its kernels for CPUs without FMA and AVX2 gives other bits for ``math``'s
    functions (and SciPy's): not for these."""
    env = {**os.environ, "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2,-FMA,-AVX512F"}
    outs, libm = [], []
    for name, environ in (("here", os.environ), ("held", env)):
        paths = [tmp_path / f"{name}.npy", tmp_path / f"{name}-libm.npy"]
        subprocess.run([sys.executable, "-c", CODE, *map(str, paths)], env=environ, check=True)
        outs.append(np.load(paths[0]))
        libm.append(np.load(paths[1]))
    assert outs[0].size == 550_000
    assert np.array_equal(outs[0].view(np.int64), outs[1].view(np.int64))
    cpuinfo = Path("/proc/cpuinfo")
    flags = cpuinfo.read_text().split() if cpuinfo.exists() else []
    if "fma" in flags:  # the premise, where glibc has FMA kernels to leave: its bits differ
        assert not np.array_equal(libm[0].view(np.int64), libm[1].view(np.int64))
