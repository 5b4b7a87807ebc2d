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
    """The stream moves forward from where it is when it can; that must not change a draw."""
    rng = np.random.default_rng(0)
    s = Stream(7, "quit")
    for _ in range(200):
        month, part, start = (int(x) for x in rng.integers(0, [5, 3, 50]))
        stop = start + int(rng.integers(0, 40))
        kind = int(rng.integers(0, 4))
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
        elif kind == 2:
            got, want = (
                s.normal(month, stop, part, start),
                Stream(7, "quit").normal(month, stop, part, start),
            )
        else:
            got, want = s.at(month, part).random(7), Stream(7, "quit").at(month, part).random(7)
        assert np.array_equal(got, want)


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
