import math
import warnings

import mesa
import numpy as np
import pandas as pd
import pytest

from culturesim import CultureModel, load_scenario, simulate
from culturesim.agents import Employee, Partner, User
from culturesim.kpis import KPIS, WORKLOAD_CAP, format_number
from culturesim.processes import DEFAULT_PROCESSES
from culturesim.processes.knowledge import workload
from culturesim.scenario import Scenario
from tests.conftest import SCENARIOS
from tests.test_invariants import check_invariants


def test_model_builds_with_no_arguments():
    model = CultureModel()
    assert isinstance(model, mesa.Model)
    assert model.headcount == 120
    staff = model.agents_by_type[Employee]
    assert len(staff) == 120
    partners = model.agents_by_type[Partner]
    assert len(partners) == 6
    assert {p.kind for p in partners} == {"university", "investor", "open_source", "channel"}
    assert len(model.agents) == 126  # users are rows only: handles come on demand
    user = model.user(5)
    assert user is model.user(5)
    assert user.state in ("prospect", "active")
    with pytest.raises(TypeError):
        CultureModel(None)  # keyword-only


def test_mesas_older_seed_keyword_gives_the_same_run(small):
    """`CultureModel(seed=3)`, as Mesa's examples before 3.2 wrote it, was a TypeError."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Mesa's batch_run passes seeds so: no warning
        old = CultureModel(scenario=small, seed=3)
    new = CultureModel(scenario=small, rng=3)
    old.run(6)
    new.run(6)
    pd.testing.assert_frame_equal(old.kpi_frame(), new.kpi_frame(), check_exact=True)
    with pytest.raises(ValueError, match="either rng or seed, not both"):
        CultureModel(scenario=small, rng=3, seed=3)


def test_mesas_datacollector_and_batch_run_read_the_kpis(small):
    """`mesa.batch_run(CultureModel, ...)` failed for want of a `datacollector`, and
    `model.datacollector.get_model_vars_dataframe()`, Mesa's way to read a model's data, too."""
    model = CultureModel(scenario=small, rng=1)
    model.run(4)
    frame = model.datacollector.get_model_vars_dataframe()
    pd.testing.assert_frame_equal(frame, model.kpi_frame(), check_names=False, check_exact=True)
    model.datacollector.collect(model)  # the model records its months itself: nothing twice
    assert len(model.datacollector.get_model_vars_dataframe()) == 5 == len(model.history["cash"])

    rows = pd.DataFrame(
        mesa.batch_run(
            CultureModel, parameters={"scenario": [small], "rng": [1, 2]}, max_steps=100,
            number_processes=1, data_collection_period=1, display_progress=False,
        )
    )  # fmt: skip
    months = small.meta.months
    assert sorted(rows["Step"].unique()) == list(range(months + 1))  # to the horizon
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "use `rng` instead", to one who did, once a run
        mesas = pd.DataFrame(  # Mesa 3.5's way: the seeds as batch_run's rng
            mesa.batch_run(
                CultureModel, parameters={"scenario": [small]}, rng=[1, 2], max_steps=100,
                number_processes=1, data_collection_period=1, display_progress=False,
            )
        )  # fmt: skip
    for seed in (1, 2):
        expected = simulate(small, seed=seed).kpis
        for frame, column in ((rows, "rng"), (mesas, "seed")):
            ran = frame[frame[column] == seed].set_index("Step")[list(KPIS)]
            pd.testing.assert_frame_equal(ran, expected, check_names=False, check_exact=True)

    model.datacollector = mesa.DataCollector(model_reporters={"staff": "headcount"})  # one's own
    model.datacollector.collect(model)
    model.step()
    model.datacollector.collect(model)
    assert model.datacollector.get_model_vars_dataframe()["staff"].tolist() == [
        model.history["headcount"][-2], model.history["headcount"][-1]
    ]  # fmt: skip


def test_a_datacollector_of_ones_own_reads_the_employees_by_type(small):
    """`model.agents` holds employees and partners: Mesa's ``agent_reporters`` ask every agent
    (a partner has no skill), its ``agenttype_reporters`` the employees alone, as the README
    says; each month's rows are that month's staff, with their skill from the arrays."""
    from culturesim.agents import Employee

    model = CultureModel(scenario=small, rng=1)
    collector = mesa.DataCollector(agenttype_reporters={Employee: {"skill": "skill"}})
    for _ in range(3):
        model.step()
        collector.collect(model)
    rows = collector.get_agenttype_vars_dataframe(Employee)
    last = rows.xs(rows.index.get_level_values(0).max(), level=0)
    assert len(last) == model.headcount
    e = model.employees
    assert sorted(last["skill"]) == sorted(e.skill[e.ids].tolist())


def test_process_order_follows_the_design():
    names = [p.name for p in DEFAULT_PROCESSES]
    assert names == [
        "finance",
        "knowledge",
        "culture",
        "skill",
        "engagement",
        "turnover",
        "hiring",
        "users",
        "partners",
        "brand",
    ]


def test_simulate_returns_kpis_by_month(small):
    result = simulate(small, seed=3)
    frame = result.kpis
    assert list(frame.columns) == list(KPIS)
    assert frame.index.tolist() == list(range(25))
    assert frame.index.name == "month"
    assert simulate(small, seed=3, months=6).kpis.shape[0] == 7


def test_mesas_run_model_stops_at_the_horizon_and_steps_go_on_past_it(small):
    """`model.run_model()` (Mesa's: step while `running`) never stopped: `running` stayed True."""
    short = small.with_changes({"meta.months": 6})

    class Bounded(CultureModel):  # fails rather than run on for ever
        def step(self):
            assert self.month < 20, "run_model() ran on past the horizon"
            super().step()

    model = Bounded(scenario=short, rng=3)
    assert model.running
    model.run_model()
    assert (model.month, model.running) == (6, False)
    pd.testing.assert_frame_equal(model.kpi_frame(), simulate(short, seed=3).kpis)
    model.step()  # asked for, a month past the horizon runs (as `run --months` does)
    assert model.month == 7 and not model.running
    pd.testing.assert_frame_equal(model.kpi_frame(), simulate(short, seed=3, months=7).kpis)


def test_same_seed_is_bit_identical_and_seeds_differ(small):
    a = simulate(small, seed=11).kpis
    b = simulate(small, seed=11).kpis
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    c = simulate(small, seed=12).kpis
    assert not a.equals(c)


@pytest.mark.slow
def test_numbers_do_not_depend_on_the_cpu_or_the_c_library(tmp_path):
    """The same KPIs to the bit with NumPy and the C library held to their kernels for old CPUs.

    NumPy picks its exp and log kernels by CPU (on AVX-512 ones they differ from the C
    library's in the last bit for 5-9% of inputs), and so does glibc: without FMA and AVX2 its
    exp, log, log1p and pow (and SciPy's ndtri, which calls them) round other inputs
    otherwise. A run in a process whose NumPy is held to its baseline instructions
    (``NPY_DISABLE_CPU_FEATURES``) and whose glibc to its kernels for CPUs without FMA and AVX2
    (``GLIBC_TUNABLES``, as on an older CPU or a virtual machine that hides them), with its
    kernels compiled for any x86-64 CPU, gives the same KPIs as one here: the model takes those
    functions from ``culturesim.portable``. With the C library's, this run's time to fill
    differed in its last bits in one month (and 3 of the 22 runs of the shipped scenarios,
    seeds 0 and 3, over 36 months, differed so). The scale-free market (its network's weights
    are powers) runs too.
    """
    import os
    import platform
    import subprocess
    import sys

    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__
    except ImportError:  # NumPy 1.x (pyproject allows 1.26)
        from numpy.core._multiarray_umath import __cpu_dispatch__

    path = SCENARIOS / "google_20pct.toml"
    code = (
        "import sys\n"
        "from culturesim import load_scenario, simulate\n"
        "s = load_scenario(sys.argv[1])\n"
        "simulate(s, seed=3, months=12).kpis.to_parquet(sys.argv[2])\n"
        "free = s.with_changes({'market.user_network': 'scale_free'})\n"
        "simulate(free, seed=3, months=12).kpis.to_parquet(sys.argv[3])\n"
    )
    outs = [tmp_path / "kpis.parquet", tmp_path / "free.parquet"]
    env = {
        **os.environ,
        "NPY_DISABLE_CPU_FEATURES": " ".join(__cpu_dispatch__),
        "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2,-FMA,-AVX512F",
    }
    if platform.machine() == "x86_64":  # the kernels compiled for any x86-64 (cached apart)
        env |= {"NUMBA_CPU_NAME": "x86-64", "NUMBA_CPU_FEATURES": ""}
    subprocess.run([sys.executable, "-c", code, str(path), *map(str, outs)], env=env, check=True)
    scenario = load_scenario(path)
    free = scenario.with_changes({"market.user_network": "scale_free"})
    here = [simulate(scenario, seed=3, months=12).kpis, simulate(free, seed=3, months=12).kpis]
    for out, kpis in zip(outs, here, strict=True):
        pd.testing.assert_frame_equal(pd.read_parquet(out), kpis, check_exact=True)


def test_a_company_with_no_one_left_reads_the_workload_cap_and_says_so_once():
    """The workload is need / capacity; with no one left to deliver it is the cap.

    It read need / 1e-9 (450 million) in every month with no staff, on the charts too. The
    run gives notice of the first such month (the staff's KPIs read 0 then, not a measure).
    """
    from culturesim.notices import NoStaffWarning

    assert workload(45.0, 60.0) == 0.75 and workload(450.0, 2.0) == WORKLOAD_CAP
    assert workload(0.45, 0.0) == WORKLOAD_CAP
    scenario = Scenario().with_changes(
        {
            "organization.employees": 1,
            "dynamics.base_quit_rate_per_year": 1.0,  # who quits in month 2 at seed 6
            "organization.cash": 1e6,  # 10-13 months of runway, under the freeze level:
            "organization.hiring_freeze_runway_months": 60.0,  # no one is hired again
            "market.potential_users": 0,
            "market.initial_active_users": 0,
            "meta.months": 6,
        }
    )
    with pytest.warns(NoStaffWarning) as caught:
        result = simulate(scenario, seed=6)
    k = result.kpis
    assert k["headcount"].tolist() == [1, 1, 0, 0, 0, 0, 0]
    assert 0 < k["workload"].loc[1] < 2  # one person's own ratio
    assert (k["workload"].loc[3:] == WORKLOAD_CAP).all()  # month 2's is before the quit
    assert (k[["engagement", "trust_in_leadership", "mean_skill"]].loc[2:] == 0).all().all()
    check_invariants(result, scenario.market.potential_users)
    said = [str(w.message) for w in caught if w.category is NoStaffWarning]
    expected = (
        "seed 6, month 2: no staff left: the staff's KPIs read 0 (engagement, trust, skill, "
        "tenure, ...) and the workload 100, its cap, until someone is hired"
    )
    assert said == result.model.notices == [expected]


def test_rng_as_text_is_a_seed(small):
    a = CultureModel(scenario=small, rng="5").run(3)
    b = CultureModel(scenario=small, rng=5).run(3)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_a_seed_that_is_no_seed_is_refused_naming_rng(small):
    for rng, error, said in (
        (1.5, TypeError, "rng (the seed) must be a whole number, a numpy Generator or "
                         "SeedSequence, not float (1.5)"),
        (True, TypeError, "not bool (True)"),
        (-1, ValueError, "rng (the seed) must be 0 or more, got -1"),
        ("a", ValueError, "rng (the seed) must be a whole number 0 or more, got 'a'"),
        ("-3", ValueError, "got '-3'"),
        # taken modulo 2**64, these ran seed 0's run
        (2**64, ValueError, f"rng (the seed) must be at most 2**63 - 1 ({2**63 - 1}), got "
                            f"{2**64}"),
        (str(2**64), ValueError, f"got {2**64}"),
    ):  # fmt: skip
        with pytest.raises(error) as caught:
            CultureModel(scenario=small, rng=rng)
        assert said in str(caught.value), (rng, str(caught.value))


def test_a_seed_sequences_seed_is_one_a_scenario_takes(small):
    """A SeedSequence's seed is its state's first 63 bits: one with the 64th bit set gave a
    seed (``model.seed``) that no scenario's ``meta.seed`` takes, so its run could not be
    written down; it is now a seed like any other, the same run as that seed."""
    sequence = next(
        s for s in map(np.random.SeedSequence, range(20))
        if s.generate_state(1, np.uint64)[0] >= 2**63
    )  # fmt: skip
    model = CultureModel(scenario=small, rng=sequence)
    assert 0 <= model.seed <= 2**63 - 1
    again = small.with_changes({"meta.seed": model.seed})  # refused for a seed past 2**63 - 1
    pd.testing.assert_frame_equal(model.run(2), CultureModel(scenario=again).run(2))


def test_common_random_numbers_keep_the_past_identical(baseline):
    event = {"month": 24, "kind": "set_lever", "lever": "transparency", "value": 0.9}
    b = baseline.with_changes({"events": [event]})
    for seed in (0, 1, 2):
        ka = simulate(baseline, seed=seed).kpis
        kb = simulate(b, seed=seed).kpis
        pd.testing.assert_frame_equal(ka.loc[:23], kb.loc[:23], check_exact=True)
        assert not ka.loc[24:].equals(kb.loc[24:])


def test_events_fire_at_the_start_of_their_month(small):
    sc = small.with_changes(
        {"events": [{"month": 6, "kind": "set_lever", "lever": "innovation_time", "value": 0.4}]}
    )
    model = CultureModel(scenario=sc, rng=1)
    model.run(5)
    assert model.levers["innovation_time"] == pytest.approx(0.1)
    model.step()
    assert model.levers["innovation_time"] == 0.4
    assert model.steps == 6
    assert model.time == 6.0


def test_events_of_one_month_fire_in_the_files_order(small):
    """Two set_lever events of one lever in one month: the later one in the file holds."""
    both = [
        {"month": 3, "kind": "set_lever", "lever": "innovation_time", "value": value}
        for value in (0.1, 0.3)
    ]
    for events in (both, both[::-1]):
        model = CultureModel(scenario=small.with_changes({"events": events}), rng=1)
        model.run(3)
        assert model.levers["innovation_time"] == events[-1]["value"]


def test_layoff_event_counts_layoffs_that_month(small):
    sc = small.with_changes({"events": [{"month": 4, "kind": "layoff", "share": 0.25}]})
    k = simulate(sc, seed=2).kpis
    assert k.loc[4, "layoffs"] == round(0.25 * k.loc[3, "headcount"])
    assert k["layoffs"].drop(4).eq(0).all()
    before = simulate(small, seed=2).kpis
    assert k.loc[4, "trust_in_leadership"] < before.loc[4, "trust_in_leadership"]


@pytest.mark.filterwarnings("ignore::culturesim.notices.NoStaffWarning")  # a one-person company
def test_a_layoff_never_takes_the_last_person(small):
    """90% of two people rounded to both: the company was laid off to nobody."""
    for employees in (1, 2, 3, 10):
        sc = small.with_changes(
            {"organization.employees": employees,
             "events": [{"month": 3, "kind": "layoff", "share": 0.9}]}
        )  # fmt: skip
        model = CultureModel(scenario=sc, rng=0)
        model.run(2)
        before = model.headcount
        model.step()
        assert model.kpi_frame().loc[3, "layoffs"] == min(round(0.9 * before), before - 1)


@pytest.mark.filterwarnings("ignore::culturesim.notices.NoStaffWarning")  # the point, not news
def test_a_company_emptied_during_a_freeze_hires_again_when_it_thaws(small):
    """Its plan was the staff left, nobody: grown at any rate it stayed nobody, and the company
    never hired again. Its plan now grows from one person at least."""
    sc = small.with_changes(
        {"organization.employees": 2, "dynamics.base_quit_rate_per_year": 1.0,
         "organization.hiring_freeze_runway_months": 60.0,
         "organization.layoff_runway_months": 0.0, "organization.cash": 1e6,
         "market.initial_active_users": 0,
         "events": [{"month": 12, "kind": "funding_round", "amount": 1e9}]}
    )  # fmt: skip
    emptied = 0
    for seed in range(12):
        k = simulate(sc, seed=seed).kpis
        assert k.loc[1:11, "hires"].eq(0).all()  # frozen
        if k.loc[11, "headcount"] == 0:
            emptied += 1
            assert k.loc[12:, "hires"].sum() > 0, seed
    assert emptied >= 2


def test_agents_stay_in_sync_with_the_arrays(small):
    model = CultureModel(scenario=small.with_changes({"organization.growth_per_year": 1.0}), rng=4)
    model.run(18)
    e = model.employees
    slots = sorted(a.slot for a in model.agents_by_type[Employee])
    assert slots == e.ids.tolist()
    agent = model.employee(slots[0])
    assert agent.engagement == e.engagement[slots[0]]
    assert 0 <= agent.alignment <= 1
    k = model.kpi_frame()
    assert k["hires"].sum() > 0
    assert k["quits"].sum() > 0
    assert all(a.alive for a in model.agents_by_type[Employee])


def test_handles_follow_the_staff_whether_read_every_month_or_once(small):
    """Handles are brought up to date when read; reading them never changes the run."""
    sc = small.with_changes({"organization.growth_per_year": 1.0})
    watched, unwatched = CultureModel(scenario=sc, rng=4), CultureModel(scenario=sc, rng=4)
    seen: dict[int, Employee] = {}
    for _ in range(12):
        watched.step()
        unwatched.step()
        now = {a.slot: a for a in watched.agents_by_type[Employee]}
        assert sorted(now) == watched.employees.ids.tolist()
        assert all(now[s] is a for s, a in seen.items() if s in now)  # a stayer keeps its handle
        seen.update(now)
    assert watched.kpi_frame()["quits"].sum() > 0
    slots = sorted(a.slot for a in unwatched.agents if isinstance(a, Employee))
    assert slots == unwatched.employees.ids.tolist() == watched.employees.ids.tolist()
    pd.testing.assert_frame_equal(watched.kpi_frame(), unwatched.kpi_frame())


def test_agent_remove_lets_an_employee_go_or_ends_a_partnership_the_mesa_way(small):
    """`employee.remove()` (Mesa's way to take an agent out) dropped the handle only: the
    employee went on working, unseen in `model.agents`, which then counted one fewer than
    the headcount for as long as they stayed."""
    model = CultureModel(scenario=small, rng=4)
    model.run(3)
    staff = list(model.agents_by_type[Employee])
    manager = next(a for a in staff if a.is_manager)
    before = model.headcount
    manager.remove()  # between months: counted in the next month's layoffs
    assert model.headcount == before - 1 and not manager.alive
    assert manager not in model.agents and len(model.agents_by_type[Employee]) == before - 1
    with pytest.raises(KeyError):
        model.employee(manager.slot)
    team = model.employees.team[manager.slot]
    e = model.employees
    assert e.is_manager[e.ids[e.team[e.ids] == team]].sum() == 1  # the team has a manager again
    model.step()
    k = model.kpi_frame()
    assert k["layoffs"].iloc[-1] == 1
    assert k["headcount"].iloc[-1] == before + k["hires"].iloc[-1] - k["quits"].iloc[-1] - 1
    assert len(model.agents_by_type[Employee]) == model.headcount
    flows = (k["hires"] - k["quits"] - k["layoffs"]).iloc[1:]
    assert k["headcount"].diff().iloc[1:].equals(flows)  # every month's staff adds up

    partner = next(iter(model.agents_by_type[Partner]))
    partners = model.partners.count
    partner.remove()
    assert model.partners.count == partners - 1 and partner.slot not in model.partners.ids
    assert partner not in model.agents
    model.step()  # the partners' processes go on without it
    assert model.kpi_frame()["partners_active"].iloc[-1] <= partners - 1


def test_looking_at_a_user_changes_neither_the_agents_nor_later_ids(small):
    """A user handle joined `model.agents` beside the staff and partners, and took a
    unique_id, so that every later hire's id shifted by one."""
    looked, not_looked = CultureModel(scenario=small, rng=2), CultureModel(scenario=small, rng=2)
    agents = len(looked.agents)
    assert len(not_looked.agents) == agents  # handles made at the same time in both
    user = looked.user(3)
    assert user.unique_id is None and user not in looked.agents
    assert len(looked.agents) == agents and User not in looked.agents_by_type
    looked.run(12)
    not_looked.run(12)
    ids = [sorted(a.unique_id for a in m.agents) for m in (looked, not_looked)]
    assert ids[0] == ids[1] and max(ids[0]) > agents  # hires since took the same ids


def test_an_employees_unique_id_does_not_depend_on_who_looked_when(small):
    """Handles are made when someone looks, and Mesa numbered them then: an employee had one
    id in a run whose agents were read every month and another in a run read at month 12 only
    (hires who left unseen took no id in the second)."""
    every, once = CultureModel(scenario=small, rng=4), CultureModel(scenario=small, rng=4)
    for _ in range(12):
        every.step()
        _ = every.agents  # as a DataCollector with agent reporters does
    once.run(12)
    ids = [{a.slot: a.unique_id for a in m.agents_by_type[Employee]} for m in (every, once)]
    assert ids[0] == ids[1] and len(ids[0]) == every.headcount
    # given at hire, in hiring order: a later hire has a larger id, and the hires of the year
    # who are gone already (unseen by `once`) left their ids unused, not taken by later ones
    slots = sorted(ids[1])
    assert [ids[1][s] for s in slots] == sorted(ids[1].values())
    hired = every.employees.n
    assert max(ids[1].values()) >= hired > len(ids[1])  # partners share Mesa's count
    # Mesa's own count goes on past them: an agent of the user's own gets an id no one has
    taken = {a.unique_id for a in once.agents}
    assert mesa.Agent(once).unique_id not in taken


def test_inverse_distance_sum_matches_networkx_distances():
    """The efficiency KPI's breadth-first searches (top-down and bottom-up levels, one source
    or several sharing a sweep) find every node at its hop distance, in connected and
    disconnected graphs."""
    import networkx as nx

    from culturesim.networks import inverse_distance_sum

    def exact(g, source):
        hops = nx.single_source_shortest_path_length(g, source)
        return sum(1.0 / d for d in hops.values() if d)

    nodes = np.arange(300)
    for seed in range(10):
        g = (nx.connected_watts_strogatz_graph(300, 4, 0.2, seed=seed) if seed % 2
             else nx.gnp_random_graph(300, 0.01, seed=seed))  # fmt: skip
        a = nx.to_scipy_sparse_array(g, format="csr")
        for source in (0, 7, 150):
            got = inverse_distance_sum(a.indptr, a.indices, np.array([source]), nodes)
            assert got == pytest.approx(exact(g, source), rel=1e-12), (seed, source)
        # eleven sources: a sweep of eight and one of three, a source given twice
        sources = np.array([3, 299, 0, 41, 41, 120, 7, 88, 150, 200, 5])
        got = inverse_distance_sum(a.indptr, a.indices, sources, nodes)
        want = sum(exact(g, int(s)) for s in sources)
        assert got == pytest.approx(want, rel=1e-12), seed


def test_neighbour_share_agrees_with_the_matrix(small):
    model = CultureModel(scenario=small, rng=3)
    model.run(6)
    e, net = model.employees, model.org
    a = net.matrix(e.alive)
    leavers = e.ids[::7]
    indicator = np.zeros(e.capacity)
    indicator[leavers] = 1.0
    share = net.neighbour_share(e.alive, leavers)
    degree = np.diff(a.indptr)
    assert np.allclose(share, (a @ indicator) / np.maximum(degree, 1))
    assert share.max() > 0


@pytest.mark.filterwarnings("ignore::culturesim.notices.NegativeCashWarning")  # not its point
@pytest.mark.parametrize("layoffs", [False, True])
def test_network_matrix_holds_exactly_the_ties_between_alive_people(small, layoffs):
    """Each month, after hires, leavers (quits, layoffs) and rewired ties, the stepping matrix
    holds exactly the ties between alive people in the edge list, once each."""
    changes = {"organization.employees": 300, "organization.growth_per_year": 0.6,
               "levers.inclusion": 1.0}  # fmt: skip
    if layoffs:
        far = {"innovation": 0.2, "collaboration": 0.3, "user_focus": 0.2, "openness": 0.3}
        changes["events"] = [
            {"month": 5, "kind": "layoff", "share": 0.2},
            {"month": 9, "kind": "merger", "headcount": 40, "values": far},
        ]
    model = CultureModel(scenario=small.with_changes(changes), rng=3)
    net = model.org
    for _ in range(18):
        model.step()
        alive = model.employees.alive
        net.changed()  # take in this month's rewired ties too
        a = net.matrix(alive)
        n = alive.size
        got = np.sort(np.repeat(np.arange(n), np.diff(a.indptr)) * n + a.indices)
        s, d = net.src.astype(np.int64), net.dst.astype(np.int64)
        ok = alive[s] & alive[d] & (s != d)
        want = np.unique(np.concatenate([s[ok] * n + d[ok], d[ok] * n + s[ok]]))
        assert np.array_equal(got, want), model.month


def test_every_team_has_one_manager_and_the_network_has_no_leavers(small):
    model = CultureModel(scenario=small.with_changes({"organization.growth_per_year": 1.0}), rng=6)
    model.run(18)
    e = model.employees
    ids = e.ids
    teams = e.team[ids]
    managers = np.bincount(teams[e.is_manager[ids]], minlength=model.org.n_teams)
    staffed = np.bincount(teams, minlength=model.org.n_teams) > 0
    assert (managers[staffed] == 1).all()
    g = model.org_graph()
    assert set(g.nodes) == set(ids.tolist())
    # everyone is tied to their teammates
    for slot in ids[:10]:
        mates = set(ids[teams == e.team[slot]].tolist()) - {slot}
        assert mates <= set(g.neighbors(int(slot)))


def test_org_has_teams_departments_and_sites():
    model = CultureModel(scenario=None, rng=0)
    sizes = np.bincount(model.employees.team[model.employees.ids])
    assert 5 <= sizes.mean() <= 10
    multi = CultureModel(scenario=model.config.with_changes({"organization.sites": 3}), rng=0)
    e = multi.employees
    assert set(e.site[e.ids].tolist()) == {0, 1, 2}
    assert multi.org.dept_site.size >= 3


def test_zero_growth_and_no_hiring_never_grows(small):
    sc = small.with_changes({"organization.growth_per_year": 0.0, "meta.months": 24})
    k = simulate(sc, seed=1).kpis
    assert (k["headcount"].diff().dropna() <= k["hires"].iloc[1:].to_numpy()).all()
    assert k["headcount"].max() == k.loc[0, "headcount"]


def test_the_growth_plan_stops_at_the_headcount_limit(small, monkeypatch):
    from culturesim.processes import hiring

    # 300% a year with cash to spare: 100 people plan about 1,600 after two years
    sc = small.with_changes(
        {"organization.employees": 100, "organization.growth_per_year": 3.0,
         "organization.cash": 1e12, "meta.months": 24}
    )  # fmt: skip
    free = simulate(sc, seed=1).kpis["headcount"]
    assert free.max() > 1_000
    monkeypatch.setattr(hiring, "MAX_HEADCOUNT", 600)
    with pytest.warns(hiring.HeadcountLimitWarning, match="reached 600 employees") as caught:
        capped = simulate(sc, seed=1).kpis["headcount"]
    assert len(caught) == 1  # said once, when the plan reaches the limit
    assert capped.max() <= 600
    assert capped.iloc[-1] >= 0.95 * 600  # the company still hires up to the limit


def test_a_hiring_freeze_hires_no_one_until_runway_recovers(small):
    # under 60 months of runway from the start (about 58 -> 54), no layoffs; a round at month 12
    sc = small.with_changes(
        {"organization.hiring_freeze_runway_months": 60.0,
         "organization.layoff_runway_months": 0.0,
         "events": [{"month": 12, "kind": "funding_round", "amount": 1e9}]}
    )  # fmt: skip
    k = simulate(sc, seed=1).kpis
    frozen = k.loc[1:11]
    assert (frozen["runway_months"] < 60).all()
    assert frozen["quits"].sum() > 0  # leavers whose places stay empty: no backfills either
    assert frozen["hires"].eq(0).all()
    assert k.loc[11, "headcount"] == k.loc[0, "headcount"] - frozen["quits"].sum()
    thawed = k.loc[12:]
    assert (thawed["runway_months"] >= 60).all()
    assert thawed["hires"].sum() > 0
    assert k["headcount"].iloc[-1] > k.loc[11, "headcount"]


@pytest.mark.filterwarnings("ignore::culturesim.notices.NegativeCashWarning")  # not the point
def test_a_month_of_layoffs_hires_no_one(small):
    """A growing company laid people off and, in the same month, hired that month's growth
    (the plan restarted from the staff left); with a layoff level above the freeze level, it
    laid off and hired month after month as its cash ran out. It now hires again the month
    after."""
    cut = small.with_changes(
        {"organization.growth_per_year": 3.0, "organization.cash": 1e9,
         "events": [{"month": 6, "kind": "layoff", "share": 0.2}]}
    )  # fmt: skip
    hired_after = 0
    for seed in range(4):
        k = simulate(cut, seed=seed).kpis
        assert k.loc[6, "layoffs"] > 0 and k.loc[6, "hires"] == 0
        assert k.loc[5, "hires"] > 0  # it was hiring
        hired_after += k.loc[7:9, "hires"].sum()
    assert hired_after > 0  # and hires again from the staff left
    # no freeze: cash runs short in about a year, and layoffs cut burn to a month of runway
    short = small.with_changes(
        {"organization.growth_per_year": 1.0, "organization.cash": 1e7,
         "organization.hiring_freeze_runway_months": 0.0}
    )  # fmt: skip
    months_cut = 0
    for seed in range(4):
        k = simulate(short, seed=seed).kpis
        cuts = k["layoffs"] > 0
        months_cut += cuts.sum()
        assert k.loc[cuts, "hires"].eq(0).all(), k.loc[cuts, ["layoffs", "hires"]]
    assert months_cut >= 4


@pytest.mark.filterwarnings("ignore::culturesim.notices.NoStaffWarning")  # the end: not its point
def test_runaway_costs_force_layoffs(small):
    from culturesim.notices import NegativeCashWarning

    sc = small.with_changes({"organization.cash": 1_000_000.0, "market.price_per_user_month": 0.0})
    with pytest.warns(NegativeCashWarning):  # layoffs come after a month in the red
        k = simulate(sc, seed=1).kpis
    assert k["layoffs"].sum() > 0
    assert k["headcount"].iloc[-1] < k["headcount"].iloc[0]
    assert (k["runway_months"] >= 0).all()


def test_cash_below_zero_gives_notice_once_and_leaves_no_runway(small):
    from culturesim.notices import NegativeCashWarning

    # 600 people on $2M: cash runs out in the first month; layoffs then cut the payroll below
    # the users' revenue, and the company earns its way back while still in the red
    sc = small.with_changes(
        {"organization.employees": 600, "organization.cash": 2e6,
         "market.initial_active_users": 6_000, "market.price_per_user_month": 500.0}
    )  # fmt: skip
    with pytest.warns(NegativeCashWarning) as caught:
        result = simulate(sc, seed=1)
    k = result.kpis
    red = k["cash"] < 0
    assert red.any() and not red.all()  # into the red and out again
    assert len(caught) == 1  # said once, the first month in the red
    first = int(red.idxmax())
    assert result.model.notices == [str(caught[0].message)]
    assert str(caught[0].message).startswith(
        f"seed 1, month {first}: cash fell below zero (−${format_number(-k.loc[first, 'cash'])})"
    )
    earning = red & (k["revenue"] > k["costs"])
    assert earning.any()  # in the red but not burning: a runway of 120 months before
    assert (k.loc[red, "runway_months"] == 0).all()
    assert (k.loc[~red, "runway_months"] > 0).all()


def test_seeds_run_together_give_each_kind_of_notice_once_in_seed_order(small):
    """`culturesim run --seeds 10` on a company short of cash printed the same notice ten
    times, in the order the threads finished (so it differed from run to run)."""
    import warnings

    from culturesim.notices import NegativeCashWarning
    from culturesim.run import run_seeds

    broke = small.with_changes({"organization.cash": 0.0, "meta.months": 3})
    alone = {}
    for seed in (7, 8, 9, 10, 11, 12, 13):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            alone[seed] = simulate(broke, seed=seed).model.notices
        assert [str(w.message) for w in caught] == alone[seed]  # one run: its own notice
    for name, prefix in (("", ""), ("B", "B: ")):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run_seeds(broke, [13, 12, 11, 10, 9, 8, 7], threads=2, name=name)
        assert [(w.category, str(w.message)) for w in caught] == [
            (NegativeCashWarning,
             f"{prefix}{alone[7][0]} (so did 6 more of the 7 seeds: 8, 9, 10, 11, 12, ...)")
        ]  # fmt: skip


def test_a_notice_may_not_hold_the_separator_that_joins_a_runs_notices(small):
    """A sweep joins a run's notices with ``SEPARATOR`` in runs.parquet; a notice holding it
    would not split back (the cash and headcount notices once did), so notify refuses it."""
    from culturesim.notices import SEPARATOR, Notice, notify

    model = CultureModel(scenario=small, rng=1)
    with pytest.raises(ValueError, match="may not hold"):
        notify(model, Notice, f"one{SEPARATOR}two")
    assert model.notices == []


def test_kpis_in_range_on_baseline(baseline):
    k = simulate(baseline, seed=0).kpis
    for name, kpi in KPIS.items():
        assert k[name].between(kpi.lo, kpi.hi).all(), name
        assert np.isfinite(k[name]).all() or math.isinf(kpi.hi), name


def test_hires_split_over_sites_by_largest_remainder():
    """Hires go to sites in proportion to their staff; leftover hires to the largest remainders
    (the lower site on ties), so a site's hires never differ from its quota by a whole hire."""
    from culturesim.processes.hiring import _largest_remainder

    def split(staff_by_site, count):
        site = np.repeat(np.arange(len(staff_by_site), dtype=np.int32), staff_by_site)
        ids = np.arange(site.size, dtype=np.int64)
        sites = _largest_remainder(ids, site, len(staff_by_site), count)
        assert np.all(np.diff(sites) >= 0)  # grouped by site, as seating expects
        return np.bincount(sites, minlength=len(staff_by_site)).tolist()

    assert split([5, 3, 2], 4) == [2, 1, 1]  # quotas 2.0, 1.2, 0.8
    assert split([1, 1, 1], 2) == [1, 1, 0]  # equal remainders: lower sites first
    assert split([0, 0], 3) == [2, 1]  # nobody yet: equal shares
    rng = np.random.default_rng(7)
    for _ in range(200):
        staff = rng.integers(0, 50, rng.integers(1, 7))
        count = int(rng.integers(1, 30))
        got = np.array(split(staff.tolist(), count))
        share = staff / staff.sum() if staff.sum() else np.full(staff.size, 1 / staff.size)
        assert got.sum() == count
        assert np.all(np.abs(got - share * count) < 1)


def test_departments_fill_up_before_a_site_opens_another():
    """A new team joins its site's newest department while that has room; departments never
    mix sites or hold more than ``teams_per_department`` teams."""
    from culturesim.networks import OrgNetwork

    rng = np.random.default_rng(11)
    net = OrgNetwork(teams_per_department=3)
    for _ in range(40):
        net.open_teams(rng.integers(0, 3, rng.integers(0, 6)))
        held = np.bincount(net.team_dept, minlength=net.dept_site.size)
        assert (held <= 3).all()
        assert np.array_equal(net.dept_site[net.team_dept], net.team_site)
        for site in range(3):
            depts = np.flatnonzero(net.dept_site == site)
            assert (held[depts[:-1]] == 3).all()  # only the newest may have room


def test_a_pulse_survey_that_drew_no_one_asks_the_nearest_miss(small):
    """A month whose 30% draw picks no one still gets an answer: the person whose draw came
    nearest. An empty sample read 0, the least favourable reading there is (2.8% of a
    10-person company's months), which pulled a small company's survey down."""
    from culturesim.measure import FAVOURABLE, SURVEY_NOISE, SURVEY_SHARE
    from culturesim.portable import ndtri_of

    tiny = small.with_changes({"organization.employees": 4, "organization.growth_per_year": 0.0})
    model = CultureModel(scenario=tiny, rng=1)
    empty = 0
    for t in range(1, tiny.meta.months + 1):
        model.step()
        e, ids, survey = model.employees, model.employees.ids, model.streams["survey"]
        draws = survey.uniform(t, e.n)[ids]
        if ids.size == 0 or (draws < SURVEY_SHARE).any():
            continue
        empty += 1
        least = ids[np.argmin(draws)]
        noise = ndtri_of(survey.uniform(t, e.n, part=1)[[least]])[0]
        answer = float(e.engagement[least] + SURVEY_NOISE * noise >= FAVOURABLE)
        assert model.history["survey_satisfaction"][-1] == answer
    assert empty >= 3  # 0.7 ** 4: about a quarter of the months
