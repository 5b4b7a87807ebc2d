"""Classic models reproduce their papers' results (reduced size; tolerances from replications)."""

import numpy as np
import pytest

from culturesim.classics import bass, deffuant, hegselmann_krause, march
from culturesim.processes.culture import bounded_confidence
from culturesim.processes.knowledge import learn_code
from culturesim.processes.users import bass_hazard


def test_classics_share_the_kernels_the_company_model_runs():
    assert bass.bass_hazard is bass_hazard
    assert deffuant.bounded_confidence is bounded_confidence
    assert march.learn_code is learn_code


def test_bass_agents_follow_the_closed_form():
    runs = [bass.simulate(m=5_000, dt=0.02, periods=15, seed=s) for s in range(10)]
    mean = np.mean([r.adopted for r in runs], axis=0)
    spread = np.std([r.adopted for r in runs], axis=0, ddof=1)
    closed = runs[0].closed_form
    # within sampling noise (3 standard errors) plus the discretisation bias of dt = 0.02
    assert np.all(np.abs(mean - closed) <= 3 * spread / np.sqrt(10) + 0.01)
    # Bass: adoption peaks at t* = ln(q / p) / (p + q), when F = (1 - p / q) / 2
    p, q = 0.03, 0.38
    t_star = np.log(q / p) / (p + q)
    reached = runs[0].t[np.argmax(mean >= (1 - p / q) / 2)]
    assert abs(reached - t_star) < 0.2


@pytest.mark.parametrize("d", [0.5, 0.3, 0.2, 0.15, 0.1])
def test_deffuant_cluster_law(d):
    """Deffuant et al. (2000): the number of major clusters is about 1 / (2 d)."""
    counts = [deffuant.simulate(n=1000, d=d, seed=s).clusters for s in range(6)]
    assert abs(np.mean(counts) - 1 / (2 * d)) < 1, counts
    assert max(counts) <= int(1 / (2 * d))  # never more clusters than the rule allows


def test_hegselmann_krause_consensus_and_fragmentation():
    wide = [hegselmann_krause.simulate(n=500, eps=0.3, seed=s) for s in range(5)]
    narrow = [hegselmann_krause.simulate(n=500, eps=0.05, seed=s) for s in range(5)]
    assert all(r.clusters == 1 for r in wide)  # consensus above about 0.25
    assert all(6 <= r.clusters <= 12 for r in narrow)  # about 1 / (2 eps) = 10
    assert all(r.iterations < 100 for r in wide + narrow)  # a fixed point in finite time


def march_knowledge(p1, p2, seeds=range(30)):
    return np.array([march.simulate(p1=p1, p2=p2, seed=s).code_knowledge[-1] for s in seeds])


def test_march_slow_socialization_learns_more_and_fast_code_learning_helps_only_then():
    """March (1991), Figure 1 (relational equivalence, 30 runs per cell)."""

    def above(a, b):
        diff = a - b
        return diff.mean() > 3 * diff.std(ddof=1) / np.sqrt(diff.size)

    for p2 in (0.1, 0.5, 0.9):
        assert above(march_knowledge(0.1, p2), march_knowledge(0.9, p2)), p2
    assert above(march_knowledge(0.1, 0.9), march_knowledge(0.1, 0.1))
    fast_slow = march_knowledge(0.9, 0.9) - march_knowledge(0.9, 0.1)
    assert fast_slow.mean() <= 0  # with fast socialization, fast code learning does not help


def test_march_turnover_and_turbulence():
    """March (1991): moderate turnover raises the code's knowledge, more with fast socialization;
    under turbulence knowledge decays without turnover and turnover sustains it (8 paired seeds,
    3 standard errors)."""

    def above(diff):
        return diff.mean() > 3 * diff.std(ddof=1) / np.sqrt(diff.size)

    gain_fast, gain_slow = march.turnover_gains(range(8))
    assert above(gain_fast) and above(gain_fast - gain_slow)
    decay, sustained = march.turbulence_effects(range(8))
    assert above(decay) and above(sustained)


def test_axelrod_regions_grow_with_traits_and_shrink_with_features():
    """Axelrod (1997), Table 1 (10 x 10): relational equivalence, and the cells it pins down."""
    from culturesim.classics import axelrod

    def regions(f, q, seeds=range(6)):
        runs = [axelrod.simulate(features=f, traits=q, seed=s) for s in seeds]
        assert all(r.absorbed for r in runs)
        return np.array([r.regions for r in runs])

    f5q5, f5q15, f10q15 = regions(5, 5), regions(5, 15), regions(10, 15)
    assert (f5q5 == 1).all()  # Table 1: 1.0
    assert abs(f5q15.mean() - 20.0) < 3 * f5q15.std(ddof=1) / np.sqrt(6) + 2  # Table 1: 20.0
    assert f10q15.mean() < 2.0  # Table 1: 1.4
    assert f5q15.mean() > f5q5.mean() and f5q15.mean() > f10q15.mean()


def test_harrison_carroll_equilibrium_growth_decline_and_selectivity():
    """Harrison & Carroll (1991), reconstruction: an equilibrium; stronger in decline than in
    growth; stronger with selective hiring (paired seeds, 3 standard errors)."""
    from culturesim.classics import harrison_carroll as hc

    def level(**kw):
        return np.array([hc.simulate(periods=100, seed=s, **kw).enculturation[-20:].mean()
                         for s in range(12)])  # fmt: skip

    path = hc.simulate(periods=200, seed=1).enculturation
    assert abs(path[100:150].mean() - path[150:].mean()) < 0.01  # settled
    for low, high in ((level(growth=0.02), level(growth=-0.01)),
                      (level(selectivity=0.2), level(selectivity=0.8))):  # fmt: skip
        diff = high - low
        assert diff.mean() > 3 * diff.std(ddof=1) / np.sqrt(diff.size)
