"""Users: awareness by Bass diffusion on a social network, adoption, satisfaction, trust, churn.

Every potential user is a row (from a thousand to millions; a Mesa handle is made only on demand
with :meth:`CultureModel.user`). States: prospect, active, churned (prospects + active + churned =
potential users, always). Each month:

1. **Awareness** (Bass 1969 on a network): an unaware user becomes aware with chance
   ``p * brand_awareness + p_partners + q * (active share of their ties)``; on a ``mixed`` market
   the share is the whole market's (a mean field, never a complete graph).
2. **Adoption**: an aware prospect tries the product with chance
   ``conversion_rate * quality * (0.5 + 0.5 trust) * channel reach``.
3. **Satisfaction** of active users moves toward product quality plus a personal taste and a
   trust term. Product quality comes from the company's market knowledge, its delivery capacity
   and recent launches (so innovation time and turnover reach users).
4. **Trust** builds slowly and falls fast (Slovic 1993): it rises toward a target (quality,
   transparency, open-source goodwill) at a rate that grows with ``transparency`` and
   ``feedback_responsiveness``, falls toward it fast, and spreads among tied users. Incidents cut
   it at once (:func:`incident`), less under high transparency.
5. **Churn**: active users leave with a hazard that rises as satisfaction and trust fall.
6. **Feedback**: active users' feedback, scaled by ``feedback_responsiveness``, corrects the
   organization's code where it is wrong about the market.

NPS = % promoters (satisfaction >= 0.8) - % detractors (< 0.6) among active users.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from culturesim.compiled import kernel
from culturesim.networks import user_network
from culturesim.population import Field, Population
from culturesim.portable import exp
from culturesim.random import cursor, uniform_at

if TYPE_CHECKING:
    from culturesim.model import CultureModel

PROSPECT, ACTIVE, CHURNED = 0, 1, 2
BASE_CHURN = 0.0185  # monthly churn at satisfaction 0.7 and trust 0.6 (guess; see docs/ODD.md)
TRUST_FALL = 0.3  # monthly pull of trust toward a lower target
TRUST_BUILD = 0.03  # monthly pull toward a higher target at transparency and feedback 0
TRUST_SPREAD = 0.1  # monthly pull of a user's trust toward their ties' mean
FEEDBACK_SHARE = 0.05  # share of active users giving feedback in a month (guess)
FEEDBACK_SCALE = 20_000.0  # feedback items giving a 63% chance to fix one wrong belief a month


@kernel
def bass_hazard(p, q, adopted_share):
    """Bass (1969) hazard of adopting (here: becoming aware) this period.

    Args:
        p: Coefficient of innovation (external influence), per period.
        q: Coefficient of imitation (word of mouth), per period.
        adopted_share: Share of the agent's ties (or of the market) who have adopted.

    Returns:
        ``p + q * adopted_share`` (shared with :mod:`culturesim.classics.bass`).
    """
    return p + q * adopted_share


def product_quality(model: CultureModel) -> float:
    """Product quality in [0, 1] from market knowledge, delivery capacity and recent launches."""
    return quality(model.knowledge, model.workload, model.launch_rate)


def quality(knowledge: float, workload: float, launch_rate: float) -> float:
    """Product quality in [0, 1] from the code's ``knowledge``, ``workload`` and launch rate."""
    delivery = min(1.0, 1.0 / max(workload, 1e-9))
    freshness = 1.0 - exp(-launch_rate)
    return min(max(0.6 * knowledge + 0.3 * delivery + 0.1 * freshness, 0.0), 1.0)


def trust_goal(quality: float, transparency: float, goodwill: float) -> float:
    """The level users' trust moves toward (step 4): ``goodwill`` is open source's reach."""
    return 0.2 + 0.5 * quality + 0.2 * transparency + goodwill


@kernel
def churn_hazard(satisfaction, trust):
    """An active user's chance of churning this month (step 5; above 1 they churn surely)."""
    return BASE_CHURN * exp(3.0 * (0.7 - satisfaction) + 2.0 * (0.6 - trust))


@kernel
def _expected_churn(state, satisfaction, trust):
    """The churn expected this month of the active users at their satisfaction and trust."""
    expected = 0.0
    for i in range(state.size):
        if state[i] == ACTIVE:
            expected += min(churn_hazard(satisfaction[i], trust[i]), 1.0)
    return expected


@kernel
def satisfaction_target(quality, taste, trust):
    """The level an active user's satisfaction moves toward (step 3), in [0, 1]."""
    return min(max(0.45 + 0.35 * quality + taste + 0.2 * (trust - 0.5), 0.0), 1.0)


class UserTally(NamedTuple):
    """Who the users are now: the counts the KPIs and brand's reputation read.

    Kept on the model as ``model.user_tally`` by every code that changes the users: the
    users' month counts it as it goes (no pass of its own), the market's opening and an
    incident count it afresh (:func:`tally`).
    """

    aware: int  #: users who know the product
    aware_trust: float  #: the sum of the aware users' trust (float64, in slot order)
    active: int  #: active users
    promoters: int  #: active users with satisfaction >= 0.8
    detractors: int  #: active users with satisfaction < 0.6

    @property
    def mean_trust(self) -> float:
        """The aware users' mean trust (0 when none is)."""
        return self.aware_trust / self.aware if self.aware else 0.0

    @property
    def nps(self) -> float:
        """Net promoter score: % promoters - % detractors among active users (0 with none)."""
        return 100.0 * (self.promoters - self.detractors) / self.active if self.active else 0.0


def tally(model: CultureModel) -> None:
    """Count the users afresh into ``model.user_tally`` (after a change outside their month)."""
    us = model.users
    model.user_tally = UserTally(
        *_tally(us.state[: us.n], us.aware[: us.n], us.trust[: us.n], us.satisfaction[: us.n])
    )


@kernel
def _tally(state, aware, trust, satisfaction):
    """The fields of a :class:`UserTally`, in one pass (as :func:`_users_step` counts them)."""
    n_aware = active = promoters = detractors = 0
    aware_trust = 0.0
    for i in range(state.size):  # without branches: who is aware or active is random
        n_aware += aware[i]
        aware_trust += np.float64(trust[i]) * aware[i]
        on = state[i] == ACTIVE
        active += on
        promoters += on & (satisfaction[i] >= 0.8)
        detractors += on & (satisfaction[i] < 0.6)
    return n_aware, aware_trust, active, promoters, detractors


class Users:
    """The company's (potential) users."""

    name = "users"

    def setup(self, model: CultureModel) -> None:
        """Create the users, who is aware and active, and their network.

        Their trust and satisfaction are set when the model opens the market (:func:`settle`).
        """
        mk = model.config.market
        n = mk.potential_users
        s = model.streams["users_init"]
        u = s.uniform(0, n)
        active = u < mk.initial_active_users / max(n, 1)
        aware = active | (s.uniform(0, n, part=1) < mk.initial_awareness)
        taste = (0.1 * s.normal(0, n, part=2)).astype(np.float32)
        model.users = Population(
            {
                "state": Field(np.int8),
                "aware": Field(bool),
                "trust": Field(np.float32),
                "satisfaction": Field(np.float32),
                "taste": Field(np.float32),
                "active_ties": Field(np.int32),  # how many of their ties are active users
            },
            capacity=max(n, 1),
        )
        model.users.add(  # trust and satisfaction: see settle
            n, state=np.where(active, ACTIVE, PROSPECT).astype(np.int8), aware=aware, taste=taste
        )
        model.user_graph = user_network(mk.user_network, n, mk.user_degree, model.streams)
        # the market's mean field stands in for the ties of a user who has none (or of everyone)
        graph = model.user_graph
        if graph is not None:
            model.users.active_ties[:n] = _active_ties(
                graph.indptr, graph.indices, model.users.state[:n]
            )
        model.user_mean_field = graph is None or bool(np.any(np.diff(graph.indptr) == 0))
        model.quality = product_quality(model)  # the launch rate: the founders' (knowledge)
        model.user_flows = {"churned": 0, "active_start": int(active.sum())}

    def step(self, model: CultureModel) -> None:
        """One month of awareness, adoption, satisfaction, trust, churn and feedback."""
        us, mk, lv, t = model.users, model.config.market, model.levers, model.month
        n = us.n
        q = model.quality = product_quality(model)
        if n == 0:
            model.user_flows["active_start"] = 0
            return
        state, aware, trust = us.state[:n], us.aware[:n], us.trust[:n]
        reach = model.partner_reach  # from partners: extra awareness and distribution
        market_trust = 0.5  # read only where a user has no ties: then the aware users' mean
        if model.user_mean_field and aware.any():
            market_trust = float(trust[aware].mean())
        graph = model.user_graph  # None on a mixed market: ties are the whole market
        indptr, indices = (graph.indptr, graph.indices) if graph is not None else (EMPTY, EMPTY)
        streams = model.streams
        start, churned, *counts = _users_step(
            state, aware, trust, us.satisfaction[:n], us.taste[:n], us.active_ties[:n], indptr,
            indices, graph is None, market_trust,
            streams["aware"].key, streams["adopt"].key, streams["user_churn"].key,
            streams["aware"].position(t),  # month t's place: the same in every stream
            mk.external_influence * model.brand_awareness + reach["awareness"],
            mk.word_of_mouth, mk.conversion_rate * q * reach["distribution"], q,
            trust_goal(q, lv["transparency"], reach["trust"]),
            TRUST_BUILD * (1.0 + lv["transparency"] + lv["feedback_responsiveness"]),
        )  # fmt: skip
        model.user_flows["active_start"] = start
        model.user_flows["churned"] = churned
        model.user_tally = UserTally(*counts)
        # 6. feedback corrects the code where it is wrong
        feedback = FEEDBACK_SHARE * model.users_active * lv["feedback_responsiveness"]
        wrong = np.flatnonzero(model.code != model.reality)
        u = model.streams["feedback"].uniform(t, model.reality.size + 1)
        if wrong.size and u[-1] < 1.0 - exp(-feedback / FEEDBACK_SCALE):
            fix = wrong[np.argmin(u[wrong])]
            model.code[fix] = model.reality[fix]
            model.knowledge = np.count_nonzero(model.code == model.reality) / model.code.size


EMPTY = np.zeros(0, dtype=np.int32)


@kernel
def _active_ties(indptr, indices, state):
    """How many of each user's ties are active users."""
    out = np.zeros(state.size, np.int32)
    for i in range(state.size):
        for p in range(indptr[i], indptr[i + 1]):
            out[i] += state[indices[p]] == ACTIVE
    return out


@kernel
def _users_step(
    state, aware, trust, satisfaction, taste, active_ties, indptr, indices, mixed, market_trust,
    aware_key, adopt_key, churn_key, position, external, word_of_mouth, conversion, quality,
    goal, build,
):  # fmt: skip
    """Steps 1-5 for every user, in place.

    Churn counts the users active at the start who left (a prospect who adopts and leaves in
    the same month is not counted: the churn rate is a share of the start's active users).

    Everyone reacts to their ties as they were before the step: an unaware user to the share
    of their ties who were active (``active_ties``, kept up to date here: after everyone has
    moved, the ties of each user who started or stopped being active are counted up or down),
    an aware one to their ties' mean trust, read from a copy of the trusts taken before anyone
    moves (on a ``mixed`` market, and for a user without ties, the market's active share and
    ``market_trust`` instead). User ``i``'s draws are number ``i`` from ``position`` of the
    awareness, adoption and churn streams (given by their keys), read as the loop goes.

    Returns:
        The users active at the start, the churn, and the fields of a :class:`UserTally` of
        the users as the step leaves them (counted as each user's step ends).
    """
    n = state.size
    start = 0
    for i in range(n):
        start += state[i] == ACTIVE
    market_active = start / n
    was_trust = trust.copy() if not mixed else trust[:0]
    moved = np.empty(n, np.int32)  # users who started or stopped being active
    n_moved = 0
    active = churned = n_aware = promoters = detractors = 0
    aware_trust = 0.0
    aware_draws = cursor(aware_key, position)
    adopt_draws = cursor(adopt_key, position)
    churn_draws = cursor(churn_key, position)
    for i in range(n):
        ties = 0 if mixed else indptr[i + 1] - indptr[i]
        was_active = state[i] == ACTIVE
        # 1. awareness: Bass hazard, external from brand and partners, internal from ties
        if not aware[i]:
            share = active_ties[i] / ties if ties else market_active
            u, aware_draws = uniform_at(aware_draws, i)
            aware[i] = u < bass_hazard(external, word_of_mouth, share)
        # 2. adoption by aware prospects
        if aware[i] and state[i] == PROSPECT:
            u, adopt_draws = uniform_at(adopt_draws, i)
            if u < conversion * (0.5 + 0.5 * trust[i]):
                state[i] = ACTIVE
        # 3. satisfaction of active users
        if state[i] == ACTIVE:
            satisfaction[i] += 0.3 * (
                satisfaction_target(quality, taste[i], trust[i]) - satisfaction[i]
            )
        # 4. trust: slow to build, fast to fall, spreading among ties
        if aware[i]:
            peer = market_trust
            if ties:
                sure = 0.0
                for j in indices[indptr[i] : indptr[i + 1]]:
                    sure += was_trust[j]
                peer = sure / ties
            rate = build if goal > trust[i] else TRUST_FALL
            new = trust[i] + rate * (goal - trust[i]) + TRUST_SPREAD * (peer - trust[i])
            trust[i] = min(max(new, 0.0), 1.0)
            n_aware += 1  # the tally (as _tally counts it: an unaware user adds 0)
            aware_trust += np.float64(trust[i])
        # 5. churn
        if state[i] == ACTIVE:
            u, churn_draws = uniform_at(churn_draws, i)
            if u < churn_hazard(satisfaction[i], trust[i]):
                state[i] = CHURNED
                churned += was_active  # of those active at the start: a rate of at most 1
            else:
                active += 1
                promoters += satisfaction[i] >= 0.8
                detractors += satisfaction[i] < 0.6
        if was_active != (state[i] == ACTIVE):
            moved[n_moved] = i
            n_moved += 1
    if not mixed:  # next month's counts (a few percent of users move a month)
        for k in range(n_moved):
            i = moved[k]
            change = 1 if state[i] == ACTIVE else -1
            for p in range(indptr[i], indptr[i + 1]):
                active_ties[indices[p]] += change
    return start, churned, n_aware, aware_trust, active, promoters, detractors


def settle(model: CultureModel, quality: float, levers: Mapping[str, float]) -> None:
    """Start every user's trust at its goal and satisfaction at its target (steps 3-4).

    ``quality`` is the product's and ``levers`` the levers the goal is set under; open
    source's goodwill is the partners' reach. The model opens its market so
    (``CultureModel._open_market``): where the users stand at month 0. Month 0's churn is
    the churn those levels give the active users (expected, not drawn: no month has run), so
    the churn rate opens where the first months hold it rather than at 0.
    """
    us = model.users
    n = us.n
    goal = min(max(trust_goal(quality, levers["transparency"], model.partner_reach["trust"]), 0), 1)
    us.trust[:n] = goal
    _settle_satisfaction(us.satisfaction[:n], us.taste[:n], quality, np.float32(goal))
    model.user_flows["churned"] = _expected_churn(us.state[:n], us.satisfaction[:n], us.trust[:n])
    tally(model)


@kernel
def _settle_satisfaction(satisfaction, taste, quality, trust):
    """Set each user's satisfaction to its target at ``quality`` and ``trust``."""
    for i in range(satisfaction.size):
        satisfaction[i] = satisfaction_target(quality, taste[i], trust)


def incident(model: CultureModel, severity: float) -> None:
    """An AI incident: aware users lose trust at once, less under high transparency."""
    us = model.users
    drop = severity * 0.5 * (1.0 - 0.6 * model.levers["transparency"])
    aware = us.aware[: us.n]
    trust = us.trust[: us.n]
    trust[aware] = np.clip(trust[aware] - drop, 0.0, 1.0)
    tally(model)
