import numpy as np
import pytest

from culturesim.population import Field, Population
from culturesim.random import Stream, Streams


def test_stream_slot_draws_do_not_depend_on_how_many_are_drawn():
    s = Stream(7, "quit")
    full = s.uniform(3, 100)
    assert np.array_equal(s.uniform(3, 40), full[:40])
    assert np.array_equal(s.uniform(3, 100, start=60), full[60:])
    assert np.array_equal(s.normal(3, 100, start=10)[:5], s.normal(3, 15)[10:])
    m = s.matrix16(3, 50, 4)
    assert np.array_equal(s.matrix16(3, 20, 4), m[:20])


def test_stream_draws_in_any_order_match_a_fresh_stream():
    """Draws at fixed positions: the order of the calls must not change a draw."""
    rng = np.random.default_rng(0)
    s = Stream(7, "quit")
    for _ in range(200):
        month, part, start = (int(x) for x in rng.integers(0, [5, 3, 50]))
        stop = start + int(rng.integers(0, 40))
        kind = int(rng.integers(0, 3))
        if kind == 0:
            got, want = (
                s.uniform(month, stop, part, start),
                Stream(7, "quit").uniform(month, stop, part, start),
            )
        elif kind == 1:
            got, want = (
                s.matrix16(month, stop, 3, part),
                Stream(7, "quit").matrix16(month, stop, 3, part),
            )
        else:
            got, want = (
                s.normal(month, stop, part, start),
                Stream(7, "quit").normal(month, stop, part, start),
            )
        assert np.array_equal(got, want)


@pytest.mark.parametrize("seed", [0, 7, 2**63 + 11])
def test_stream_is_numpys_pcg64dxsm_number_for_number(seed):
    """The compiled generator gives exactly NumPy's PCG64DXSM draws at every position."""
    from culturesim.random import _name_key

    s = Stream(seed, "quit")
    base = np.random.PCG64DXSM(np.random.SeedSequence([seed, _name_key("quit")]))
    positions = [(0, 0, 0), (1, 0, 0), (3, 2, 17), (59, 1, 123_456), (120, 0, 2**31)]
    for month, part, start in positions:
        numpy_gen = np.random.PCG64DXSM()
        numpy_gen.state = base.state
        numpy_gen.advance(month * 2**40 + part * 2**32 + start)
        assert np.array_equal(
            s.uniform(month, start + 300, part, start), np.random.Generator(numpy_gen).random(300)
        )
        numpy_gen.state = base.state
        numpy_gen.advance(month * 2**40 + part * 2**32)
        raw = numpy_gen.random_raw(25)  # 100 16-bit numbers
        assert np.array_equal(s.matrix16(month, 20, 5, part).ravel(), raw.view(np.uint16))


def test_a_cursor_reads_the_same_numbers_inside_kernels():
    """Kernels read draws by slot through a cursor: the same numbers as the arrays, any gaps."""
    from numba import njit

    from culturesim.random import cursor, uniform_at

    @njit
    def uniforms(key, position, slots):
        cur, out = cursor(key, position), np.empty(slots.size)
        for r in range(slots.size):
            out[r], cur = uniform_at(cur, slots[r])
        return out

    s = Stream(7, "quit")
    slots = np.unique(np.random.default_rng(1).integers(0, 3_000, 300))  # gaps of 1 to dozens
    want = s.uniform(5, 3_000, part=1)[slots]
    assert np.array_equal(uniforms(s.key, s.position(5, part=1), slots), want)
    with pytest.raises(ValueError, match="read backwards"):  # not a silently wrong draw
        uniforms(s.key, s.position(5), np.array([10, 3]))


def test_streams_differ_by_name_month_part_and_seed():
    a = Stream(7, "quit").uniform(3, 50)
    assert not np.array_equal(a, Stream(7, "hire").uniform(3, 50))
    assert not np.array_equal(a, Stream(7, "quit").uniform(4, 50))
    assert not np.array_equal(a, Stream(7, "quit").uniform(3, 50, part=1))
    assert not np.array_equal(a, Stream(8, "quit").uniform(3, 50))
    # the same stream drawn in another order gives the same numbers (fixed positions)
    s = Streams(7)
    s["quit"].uniform(9, 10)
    assert np.array_equal(s["quit"].uniform(3, 50), a)


def test_population_grows_without_reindexing():
    pop = Population({"x": Field(float), "v": Field(float, 3)}, capacity=2)
    first = pop.add(2, x=[1.0, 2.0], v=np.ones((2, 3)))
    more = pop.add(5, x=np.arange(5.0))
    assert list(first) == [0, 1]
    assert list(more) == [2, 3, 4, 5, 6]
    assert pop.capacity >= 7
    assert pop.x[1] == 2.0
    assert pop.v[0].tolist() == [1, 1, 1]
    pop.remove(np.array([1, 3]))
    assert pop.ids.tolist() == [0, 2, 4, 5, 6]
    assert pop.count == 5
    again = pop.add(1, x=9.0)
    assert again.tolist() == [7]  # slots are never reused
    with pytest.raises(KeyError, match="unknown field"):
        pop.add(1, nope=1)


def test_group_by_is_a_stable_sort_by_key():
    from culturesim.compiled import group_by

    keys = np.random.default_rng(1).integers(0, 7, 500)
    start, order = group_by(keys, 9)  # keys 7 and 8 stay empty
    assert np.array_equal(order, np.argsort(keys, kind="stable"))
    assert np.array_equal(np.diff(start), np.bincount(keys, minlength=9))


def test_a_changed_callee_in_another_module_is_not_served_from_a_stale_cache(tmp_path):
    """Numba's cache checks a kernel's own file only; the package digest drops the rest.

    A kernel in ``caller.py`` calls one in ``callee.py``. After ``callee.py`` changes, a new
    process must compute with the new callee (Numba alone serves the old one from the cache).
    """
    import subprocess
    import sys

    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "callee.py").write_text(
        "from numba import njit\n\n@njit(cache=True)\ndef g():\n    return 1\n"
    )
    (package / "caller.py").write_text(
        "from numba import njit\nfrom pkg.callee import g\n\n"
        "@njit(cache=True)\ndef f():\n    return g() + 10\n"
    )
    run = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1])\n"
        "from culturesim.compiled import drop_stale_caches\n"
        "if sys.argv[2] == 'guard': drop_stale_caches(Path(sys.argv[1]) / 'pkg')\n"
        "from pkg.caller import f; print(f())\n"
    )

    def f(mode):
        out = subprocess.run(
            [sys.executable, "-c", run, str(tmp_path), mode],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return int(out.stdout)

    assert f("guard") == 11
    assert list(package.glob("__pycache__/*.nbi"))  # cached
    (package / "callee.py").write_text(
        "from numba import njit\n\n@njit(cache=True)\ndef g():\n    return 2\n"
    )
    # the stale cache the guard is for (should Numba ever track callees, this fails: then the
    # guard can go)
    assert f("no guard") == 11
    assert f("guard") == 12
    assert f("guard") == 12  # and cached again
