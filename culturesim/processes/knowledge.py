"""Work and knowledge after March (1991), with innovation time as exploration.

The market is a "reality" of ``m`` dimensions, each +1 or -1. Employees hold beliefs in
{-1, 0, +1}; the organization holds a "code" (its shared playbook). Each month:

1. Turbulence: each dimension of reality flips with the monthly chance implied by
   ``market.turbulence_per_year`` (March's p4).
2. Exploration: with innovation time ``it`` an employee tests each dimension with chance
   ``x = exploration_rate * it * (0.5 + 0.5 skill)`` and learns the truth there. Explorers have
   ideas: ``ideas_per_year / 12 * it * (0.5 + 0.5 skill)`` per person-month.
3. Socialization (March's p1): on a dimension not tested this month, where the code has a view,
   the belief takes the code's view with chance ``socialization_rate`` (one draw per person and
   dimension decides: below x explore, below x + p1 socialize).
4. Code learning (March's p2): the superior group are those whose beliefs match reality on more
   dimensions than the code does. On each dimension where the group's majority view differs from
   the code, the code adopts it with chance ``1 - (1 - p2)^k``, k = majority minus minority.
5. Launches: ideas wait in a pipeline (going stale at 5% a month). Delivery capacity is each
   person's productivity times the time not spent exploring; the roadmap takes
   ``roadmap_load`` of a full-time person per planned head, and what is left ships ideas at
   ``launch_effort_person_months`` each. Workload = roadmap need / capacity, at most
   :data:`~culturesim.kpis.WORKLOAD_CAP` (reached when no one is left to deliver). The recent
   launch rate (a moving average, which product quality reads) follows the launches.

Knowledge (a KPI) is the share of dimensions the code gets right. The code's and the pipeline's
first months, the founders' (:func:`replay_founders`), are replayed as the company is founded.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from culturesim.compiled import kernel
from culturesim.kpis import WORKLOAD_CAP
from culturesim.levers import LEVER_DEFAULTS
from culturesim.portable import power
from culturesim.random import cursor, uniform_at

if TYPE_CHECKING:
    from culturesim.model import CultureModel

SCALE16 = 65536.0
PIPELINE_DECAY = 0.05
BANK_CAP = 3.0


class Knowledge:
    """March's mutual learning between people and the organizational code."""

    name = "knowledge"

    def setup(self, model: CultureModel) -> None:
        """Draw month 0's market reality, and the code and pipeline the founders' months leave."""
        m = model.config.dynamics.market_dimensions
        s = model.streams["reality"]
        model.reality = np.where(s.uniform(0, m) < 0.5, 1, -1).astype(np.int8)
        known = s.uniform(0, m, part=1) < model.config.dynamics.initial_code_knowledge
        model.pipeline = 0.0
        model.delivery_bank = 0.0
        model.launch_rate = 0.0
        model.code = replay_founders(model, known)
        model.knowledge = np.count_nonzero(model.code == model.reality) / model.code.size
        model.workload = founding_workload(model, model.levers["innovation_time"])

    def step(self, model: CultureModel) -> None:
        """Explore, socialize, learn, have ideas and ship them."""
        e, t, dyn = model.employees, model.month, model.config.dynamics
        streams = model.streams
        ids = e.ids
        it = model.levers["innovation_time"]
        m = model.reality.size
        # 1. turbulence
        p4 = monthly_turbulence(model)
        turbulence = streams["turbulence"]
        _turbulence(model.reality, turbulence.key, turbulence.position(t), p4)
        # 2-3. explore or socialize, person by person, dimension by dimension; count ideas and
        # delivery capacity on the way
        idea = streams["ideas"]
        ideas, capacity = _explore_and_socialize(
            ids, e.beliefs, streams["learn"].matrix16(t, e.n, m), e.skill, e.engagement,
            model.code, model.reality, dyn.exploration_rate * it, dyn.socialization_rate,
            idea.key, idea.position(t), dyn.ideas_per_year / 12.0 * it, 1.0 - it,
        )  # fmt: skip
        # 4. code learning from the superior group
        model.code = learn_code(
            model.code,
            e.beliefs,
            model.reality,
            dyn.code_learning_rate,
            streams["code"].uniform(t, m),
            rows=ids,
        )
        model.knowledge = np.count_nonzero(model.code == model.reality) / model.code.size
        # 5. ideas wait for delivery capacity
        need = roadmap_need(model, model.target_headcount)
        model.workload = workload(need, capacity)
        launches = ship(model, ideas, capacity, need)
        model.launch_rate = recent_launches(model.launch_rate, launches)
        model.flows["ideas"] += ideas
        model.flows["launches"] += launches


def ship(model: CultureModel, ideas: float, capacity: float, need: float) -> int:
    """Step 5: add ``ideas`` to the pipeline, bank the capacity left after ``need``, launch.

    The pipeline goes stale at :data:`PIPELINE_DECAY` a month; the bank holds at most
    :data:`BANK_CAP` launches' worth of spare person-months. Updates ``model.pipeline`` and
    ``model.delivery_bank``; returns the launches.
    """
    model.pipeline = model.pipeline * (1.0 - PIPELINE_DECAY) + ideas
    free = max(0.0, capacity - need)
    model.delivery_bank = min(
        BANK_CAP, model.delivery_bank + free / model.config.dynamics.launch_effort_person_months
    )
    launches = min(math.floor(model.pipeline), math.floor(model.delivery_bank))
    model.pipeline -= launches
    model.delivery_bank -= launches
    return launches


def recent_launches(launch_rate: float, launches: float) -> float:
    """The recent launch rate after a month with ``launches`` (a moving average: 0.8 / 0.2)."""
    return 0.8 * launch_rate + 0.2 * launches


def monthly_turbulence(model: CultureModel) -> float:
    """Chance that a dimension of reality flips in a month (from ``turbulence_per_year``)."""
    return 1.0 - power(1.0 - model.config.market.turbulence_per_year, 1.0 / 12.0)


def replay_founders(model: CultureModel, known: np.ndarray) -> np.ndarray:
    """Replay the founders' months of steps 1-5; return the code at month 0.

    Round ``r`` of ``R`` (the longest tenure) is the month ``R - r`` months before month 0, as
    in the culture and engagement replay (:meth:`CultureModel.founding_rounds`): reality is
    what it was then, the founders who had joined explore and are socialized, and the code
    learns from them. The code starts, ``R`` months before month 0, knowing the dimensions
    ``known`` of that month's reality. Reality's path runs backward from month 0's (a flip is
    as likely either way), from a stream of its own (``founding_reality``, its month ``a`` for
    ``a`` months before month 0), so month 0's reality and the months' streams are untouched;
    the draws are ``founding_learn`` and ``founding_code``'s month ``r``. The rounds run under
    the default innovation time, so scenarios that differ only in their levers start from the
    same code (and the founders' beliefs it leaves).

    The founders' ideas (``founding_ideas``' month ``r``) wait for their spare capacity, the
    roadmap asking for those who had joined, as in step 5 (:func:`ship`): ``model.pipeline``,
    ``model.delivery_bank`` and the recent launch rate ``model.launch_rate`` are what month 0
    inherits (partners' ideas are not replayed).
    """
    e, dyn, streams = model.employees, model.config.dynamics, model.streams
    m = model.reality.size
    rounds = model.founding_months()
    p4 = monthly_turbulence(model)
    path = np.empty((rounds + 1, m), np.int8)  # path[a]: reality a months before month 0
    path[0] = model.reality
    flips = streams["founding_reality"]
    for ago in range(1, rounds + 1):
        path[ago] = np.where(flips.uniform(ago, m) < p4, -path[ago - 1], path[ago - 1])
    code = np.where(known, path[rounds], 0).astype(np.int8)
    it = LEVER_DEFAULTS["innovation_time"]
    learn, teach = streams["founding_learn"], streams["founding_code"]
    idea = streams["founding_ideas"]
    for r, ago, active in model.founding_rounds():
        ideas, capacity = _explore_and_socialize(
            active, e.beliefs, learn.matrix16(r, e.n, m), e.skill, e.engagement, code,
            path[ago], dyn.exploration_rate * it, dyn.socialization_rate, idea.key,
            idea.position(r), dyn.ideas_per_year / 12.0 * it, 1.0 - it,
        )  # fmt: skip
        code = learn_code(
            code, e.beliefs, path[ago], dyn.code_learning_rate, teach.uniform(r, m), rows=active
        )
        launches = ship(model, ideas, capacity, roadmap_need(model, active.size))
        model.launch_rate = recent_launches(model.launch_rate, launches)
    return code


def founding_workload(model: CultureModel, innovation_time: float) -> float:
    """The founding staff's workload at ``innovation_time`` (the plan is their headcount)."""
    e = model.employees
    capacity = _capacity(e.ids, e.skill, e.engagement, 1.0 - innovation_time)
    return workload(roadmap_need(model, model.headcount), capacity)


def workload(need: float, capacity: float) -> float:
    """The roadmap's ``need`` over delivery ``capacity``, at most :data:`WORKLOAD_CAP`.

    No capacity (no one left to deliver) is the cap, not a division by zero.
    """
    return min(need / capacity, WORKLOAD_CAP) if capacity > 0 else WORKLOAD_CAP


def roadmap_need(model: CultureModel, planned: float) -> float:
    """Person-months a month the roadmap needs for ``planned`` heads (step 5)."""
    return model.config.dynamics.roadmap_load * max(float(planned), 1.0)


@kernel
def _delivered(work_share, productivity, engagement):
    """One person's delivery capacity in a month: work time by productivity and engagement."""
    return work_share * productivity * (0.5 + 0.5 * engagement)


@kernel
def _capacity(ids, skill, engagement, work_share):
    """The delivery capacity of ``ids`` (as :func:`_explore_and_socialize` counts it)."""
    capacity = 0.0
    for i in ids:
        capacity += _delivered(work_share, 0.5 + 0.5 * skill[i], engagement[i])
    return capacity


@kernel
def _explore_and_socialize(
    ids, beliefs, draws, skill, engagement, code, reality, exploration, socialization, idea_key,
    idea_position, idea_rate, work_share,
):  # fmt: skip
    """Steps 2-3 for ``ids``, updating ``beliefs`` in place.

    Each (person, dimension) has one 16-bit draw: below ``x * 65536`` the person tests the
    dimension against reality, else below ``(x + p1) * 65536`` they take the code's view where
    it has one. ``x = exploration * productivity``, productivity ``0.5 + 0.5 skill``.

    Returns:
        Ideas had (slot i's draw at ``idea_position`` of the stream with ``idea_key`` below
        ``idea_rate * productivity``; none, and no draws, when ``idea_rate`` is 0) and delivery
        capacity (``work_share * productivity * (0.5 + 0.5 engagement)`` summed).
    """
    social_cut = np.uint32(socialization * SCALE16)
    ideas, capacity = 0, 0.0
    for i in ids:
        productivity = 0.5 + 0.5 * skill[i]
        explore_cut = np.uint32(exploration * productivity * SCALE16)
        either_cut = explore_cut + social_cut
        # written as selects, not branches (which the draws make unpredictable): 2x faster
        for c in range(code.size):
            draw = np.uint32(draws[i, c])
            b = code[c] if (draw < either_cut) & (code[c] != 0) else beliefs[i, c]
            beliefs[i, c] = reality[c] if draw < explore_cut else b
        capacity += _delivered(work_share, productivity, engagement[i])
    if idea_rate > 0:  # a loop of its own: the generator's chain would slow the one above
        idea_draws = cursor(idea_key, idea_position)
        for i in ids:
            u, idea_draws = uniform_at(idea_draws, i)
            if u < idea_rate * (0.5 + 0.5 * skill[i]):
                ideas += 1
    return ideas, capacity


def learn_code(
    code: np.ndarray,
    beliefs: np.ndarray,
    reality: np.ndarray,
    p2: float,
    u: np.ndarray,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """One period of March's code learning (shared with the classic March model).

    Args:
        code: The code, shape ``(m,)``, values in {-1, 0, 1}.
        beliefs: Beliefs of the individuals, shape ``(n, m)``.
        reality: The reality, shape ``(m,)``, values in {-1, 1}.
        p2: Code learning rate.
        u: One uniform per dimension.
        rows: The individuals (rows of ``beliefs``) who take part; default all.

    Returns:
        The new code.
    """
    rows = np.arange(beliefs.shape[0]) if rows is None else rows
    if rows.size == 0 or p2 <= 0:
        return code
    return _learned(code, beliefs, reality, p2, u, rows)


@kernel
def _turbulence(reality, key, position, p4):
    """Flip each dimension of ``reality`` whose draw at ``position`` (of ``key``) is below p4."""
    draws = cursor(key, position)
    for c in range(reality.size):
        u, draws = uniform_at(draws, c)
        if u < p4:
            reality[c] = -reality[c]


@kernel
def _learned(code, beliefs, reality, p2, u, rows):
    """The code after one period of learning from the superior group among ``rows``."""
    plus, minus = _superior_votes(code, beliefs, reality, rows)
    out = code.copy()
    for c in range(code.size):
        lead = plus[c] - minus[c]  # the majority's lead: its sign is the majority view
        majority = 1 if lead > 0 else (-1 if lead < 0 else 0)
        adopt = u[c] < 1.0 - power(1.0 - p2, abs(lead))
        if majority != 0 and majority != code[c] and adopt:
            out[c] = majority
    return out


@kernel
def _superior_votes(code, beliefs, reality, rows):
    """How many of the superior group hold +1, and how many -1, on each dimension.

    The superior group are the ``rows`` whose beliefs match reality on more dimensions than
    the code does.
    """
    code_score = 0
    for c in range(code.size):
        code_score += code[c] == reality[c]
    plus = np.zeros(code.size, np.int64)
    minus = np.zeros(code.size, np.int64)
    for i in rows:
        score = 0
        for c in range(code.size):
            score += beliefs[i, c] == reality[c]
        if score > code_score:
            for c in range(code.size):
                plus[c] += beliefs[i, c] == 1
                minus[c] += beliefs[i, c] == -1
    return plus, minus
