"""The organization's network: sites, departments, teams with managers, and informal ties.

The initial structure is built with networkx generators (a small-world graph per site laid over
the team order, so informal ties are densest within team, then department, then site) and then
held as edge arrays. The alive part is stepped as CSR arrays (``indptr``, ``indices``) built by a
compiled counting sort, rebuilt only when people join or leave; :meth:`OrgNetwork.matrix` gives it
as a ``scipy.sparse`` matrix for analysis. New hires attach to a team (ties to every teammate)
and make a few informal ties, mostly within their site; leavers detach (their edges are dropped
at the next rebuild). :meth:`OrgNetwork.to_networkx` gives the alive network for analysis and
pictures.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp

from culturesim.compiled import group_by, heap_sort, insertion_sort, kernel
from culturesim.portable import powers
from culturesim.random import cursor, uniform_at

__all__ = ["OrgNetwork"]

#: Edge kinds.
TEAM, INFORMAL, MANAGERS, CROSS_SITE = 0, 1, 2, 3

#: Watts-Strogatz rewiring of the founders' informal ties (a guess, chosen so the founding
#: network is about as short as the one hiring grows: every hire's informal ties are random
#: colleagues at their site). At 0.15 the baseline's communication efficiency rose from 0.35 at
#: month 0 to 0.41 by month 12 as hires' random ties shortened the founders' lattice; at 0.5 it
#: reads 0.41 at month 0 and 0.41-0.42 over the first year (docs/ODD.md section 5).
FOUNDING_REWIRING = 0.5


class OrgNetwork:
    """Teams, departments, sites and ties among employees (by population slot).

    Args:
        team_size: Target team size, manager included.
        teams_per_department: Teams a department holds before a new one is opened.
        informal_ties: Informal ties a newcomer makes beyond their team.
        cross_site_share: Share of a newcomer's informal ties that reach other sites.
    """

    def __init__(
        self,
        *,
        team_size: int = 7,
        teams_per_department: int = 6,
        informal_ties: int = 3,
        cross_site_share: float = 0.1,
    ):
        self.team_size = team_size
        self.teams_per_department = teams_per_department
        self.informal_ties = informal_ties
        self.cross_site_share = cross_site_share
        # per team
        self.team_site = np.zeros(0, dtype=np.int32)
        self.team_dept = np.zeros(0, dtype=np.int32)
        self.dept_site = np.zeros(0, dtype=np.int32)
        # edges (undirected, stored once) in buffers that double when full: the first
        # ``_m`` entries are the ties
        self._src = np.zeros(1024, dtype=np.int32)  # slots: 32 bits halve the memory traffic
        self._dst = np.zeros(1024, dtype=np.int32)
        self._kind = np.zeros(1024, dtype=np.int8)
        self._m = 0
        # the alive adjacency (CSR arrays), rebuilt when stale; None when stale
        self._adjacency: tuple[np.ndarray, np.ndarray] | None = None
        self._csr: sp.csr_matrix | None = None

    @property
    def src(self) -> np.ndarray:
        """One end of each tie (a view: do not keep it across changes)."""
        return self._src[: self._m]

    @property
    def dst(self) -> np.ndarray:
        """The other end of each tie."""
        return self._dst[: self._m]

    @property
    def kind(self) -> np.ndarray:
        """The kind of each tie (``TEAM``, ``INFORMAL``, ``MANAGERS`` or ``CROSS_SITE``)."""
        return self._kind[: self._m]

    # --- structure -------------------------------------------------------------------------
    def informal_positions(self) -> np.ndarray:
        """Positions of the informal ties in :attr:`src` / :attr:`dst` (leavers' not yet pruned)."""
        return _positions_of(self._kind, self._m, INFORMAL)

    @property
    def n_teams(self) -> int:
        """Number of teams ever opened."""
        return self.team_site.size

    def open_teams(self, sites: np.ndarray) -> np.ndarray:
        """Open one new team per entry of ``sites`` and return the new team ids.

        Teams go into the newest department of their site until it holds
        ``teams_per_department`` teams, then into a new department of that site.
        """
        sites = np.asarray(sites, dtype=np.int32)
        first = self.n_teams
        depts, opened = _departments(
            sites, self.dept_site, self.team_dept, self.teams_per_department
        )
        self.dept_site = np.concatenate([self.dept_site, opened])
        self.team_site = np.concatenate([self.team_site, sites])
        self.team_dept = np.concatenate([self.team_dept, depts])
        return np.arange(first, self.n_teams, dtype=np.int32)

    # --- ties ------------------------------------------------------------------------------
    def add_edges(self, src: np.ndarray, dst: np.ndarray, kind: int) -> None:
        """Add undirected ties (self-ties are dropped)."""
        stop = self._m + len(src)
        if stop > self._src.size:  # room for all of them, self-ties included
            size = max(stop, 2 * self._src.size)
            for name in ("_src", "_dst", "_kind"):
                old = getattr(self, name)
                new = np.zeros(size, dtype=old.dtype)
                new[: self._m] = old[: self._m]
                setattr(self, name, new)
        self._m = _append_ties(self._src, self._dst, self._kind, self._m, src, dst, kind)
        self.changed()

    def rewire(self, ties: np.ndarray, count: int, stream, month: int, nodes: np.ndarray) -> None:
        """Move the far end of ``count`` random ties among ``ties`` to random ``nodes``.

        Move ``k`` takes the tie its ``k``-th draw of ``stream`` at ``month`` picks and the new
        end its ``k``-th draw of part 1 picks (a tie picked twice ends where the later move
        puts it). The adjacency is not rebuilt for this: the moved ties count from the next
        rebuild, which comes with the month's hires and departures.

        Args:
            ties: Positions of the ties that may move (e.g. :meth:`informal_positions`).
            count: How many moves.
            stream: The :class:`~culturesim.random.Stream` of the moves.
            month: The month, which places the draws in the stream.
            nodes: Candidate new ends (alive slots).
        """
        if ties.size == 0 or nodes.size == 0 or count == 0:
            return
        _rewire(
            self._dst, ties, nodes, count, stream.key, stream.position(month),
            stream.position(month, 1),
        )  # fmt: skip
        # no rebuild now: the moved ties take effect at the next rebuild (after hires/leavers)

    def changed(self) -> None:
        """Mark the adjacency stale (people joined or left)."""
        self._adjacency = self._csr = None

    def team_edges(self, members: np.ndarray, team: np.ndarray, new: np.ndarray) -> None:
        """Tie each of ``new`` to every member of its team.

        Args:
            members: Sorted slots of everyone currently in a team (``new`` included).
            team: The team of every slot (a full-capacity array).
            new: Sorted slots (a subset of ``members``) that just joined.
        """
        if new.size:
            src, dst = _team_ties(members, team, new, self.n_teams)
            self.add_edges(src, dst, TEAM)

    def build_informal(self, ordered: np.ndarray, sites: np.ndarray, seed: int) -> None:
        """Lay small-world informal ties over employees ordered by site, department and team.

        One Watts-Strogatz graph (networkx) per site over the team order, so ring neighbours are
        teammates and nearby teams, and rewired ties (:data:`FOUNDING_REWIRING` of them) reach
        across the site.

        Args:
            ordered: Slots in team order.
            sites: Site of each of ``ordered``.
            seed: Seed for the generators.
        """
        for s in np.unique(sites):
            nodes = ordered[sites == s]
            if nodes.size < 5:
                continue
            g = nx.watts_strogatz_graph(
                nodes.size, k=4, p=FOUNDING_REWIRING, seed=int(seed) + int(s)
            )
            edges = np.asarray(g.edges(), dtype=np.int64).reshape(-1, 2)
            self.add_edges(nodes[edges[:, 0]], nodes[edges[:, 1]], INFORMAL)

    # --- stepping --------------------------------------------------------------------------
    def adjacency(self, alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the CSR arrays ``(indptr, indices)`` of the alive ties (rows = slots).

        Rebuilt only after people joined or left (:meth:`changed`); ties touching a leaver are
        dropped for good then, and rewired ties take effect then. A repeated tie (a teammate
        who is also an informal tie) counts once; self-ties are dropped.
        """
        if self._adjacency is None or self._adjacency[0].size != alive.size + 1:
            self._m, indptr, indices = _alive_adjacency(
                self._src, self._dst, self._kind, self._m, alive
            )
            self._adjacency = indptr, indices
            self._csr = None
        return self._adjacency

    def ties_among(self, alive: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the CSR arrays of the alive ties whose two ends are both ``members``.

        ``members`` is a boolean mask by slot. The network is not changed (unlike a rebuild of
        :meth:`adjacency`, which drops the ties of leavers for good).
        """
        indptr, indices = self.adjacency(alive)
        return _ties_among(indptr, indices, members)

    def matrix(self, alive: np.ndarray) -> sp.csr_matrix:
        """Return the symmetric 0/1 adjacency of alive employees (size = population capacity)."""
        indptr, indices = self.adjacency(alive)
        if self._csr is None:
            n = alive.size
            self._csr = sp.csr_matrix((np.ones(indices.size), indices, indptr), shape=(n, n))
        return self._csr

    def neighbour_share(
        self, alive: np.ndarray, slots: np.ndarray, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Share of each slot's ties that go to ``slots`` (a full-capacity array).

        The mean over each slot's ties of an indicator of ``slots`` (0 where a slot has no
        ties), found by walking only the ties of ``slots``. With ``out``, the shares are added
        to it (and it is returned).
        """
        indptr, indices = self.adjacency(alive)
        out = np.zeros(alive.size) if out is None else out
        _add_tie_shares(indptr, indices, np.asarray(slots, dtype=np.int64), out)
        return out

    def efficiency(
        self, alive: np.ndarray, sources: np.ndarray, nodes: np.ndarray | None = None
    ) -> float:
        """Global efficiency (Latora & Marchiori 2001) estimated from BFS at ``sources``.

        Mean of 1/d(s, j) over sources s and alive j != s, with 1/inf = 0. ``nodes``, the
        alive slots, may be given if known.
        """
        nodes = np.flatnonzero(alive) if nodes is None else nodes
        indptr, indices = self.adjacency(alive)  # leavers have no ties: unreachable
        return mean_inverse_distance(
            indptr, indices, np.asarray(sources, dtype=np.int64), np.asarray(nodes, np.int64)
        )

    def to_networkx(self, alive: np.ndarray) -> nx.Graph:
        """Return the alive network as a networkx graph (nodes are slots, edges carry ``kind``)."""
        self.adjacency(alive)  # prune edges of leavers
        g = nx.Graph()
        g.add_nodes_from(np.flatnonzero(alive).tolist())
        names = {TEAM: "team", INFORMAL: "informal", MANAGERS: "managers", CROSS_SITE: "cross_site"}
        g.add_edges_from(
            (int(s), int(d), {"kind": names[int(k)]})
            for s, d, k in zip(self.src, self.dst, self.kind, strict=True)
        )
        return g


@kernel
def _rewire(dst, ties, nodes, count, key, at_tie, at_node):
    """Move ``count`` ties' far ends (``dst``): the tie and the new end from two cursors."""
    tie, node = cursor(key, at_tie), cursor(key, at_node)
    for k in range(count):
        u, tie = uniform_at(tie, k)
        v, node = uniform_at(node, k)
        dst[ties[np.int64(u * ties.size)]] = nodes[np.int64(v * nodes.size)]


@kernel
def _append_ties(src_buf, dst_buf, kind_buf, m, src, dst, kind):
    """Write the ties ``src``-``dst`` (not self-ties) after the first ``m``; return the count."""
    for k in range(src.size):
        if src[k] != dst[k]:
            src_buf[m] = src[k]
            dst_buf[m] = dst[k]
            kind_buf[m] = kind
            m += 1
    return m


@kernel
def _alive_adjacency(src, dst, kind, m, alive):
    """CSR adjacency of the ties between alive people, both directions; prunes the others.

    The first ``m`` entries of ``src``, ``dst`` and ``kind`` are the ties; those touching a
    leaver (and self-ties) are dropped from them in place. A counting sort by row (no global
    sort); a row lists its ties in the order they were made, each once.

    Returns:
        The number of ties kept, ``indptr`` and ``indices`` (int32).
    """
    n = alive.size
    start = np.zeros(n + 1, np.int32)  # 32-bit counters and masks: faster than 64-bit here
    kept = 0
    for k in range(m):
        s, d = src[k], dst[k]
        if alive[s] & alive[d] & (s != d):
            src[kept] = s
            dst[kept] = d
            kind[kept] = kind[k]
            kept += 1
            start[s + 1] += 1
            start[d + 1] += 1
    for i in range(n):
        start[i + 1] += start[i]
    cursor = start[:-1].copy()
    indices = np.empty(start[n], np.int32)
    for k in range(kept):
        s, d = src[k], dst[k]
        indices[cursor[s]] = d
        cursor[s] += 1
        indices[cursor[d]] = s
        cursor[d] += 1
    indptr = np.zeros(n + 1, np.int32)
    seen = np.full(n, -1, np.int32)  # seen[j] == i: row i already holds j
    out = 0
    for i in range(n):
        for p in range(start[i], start[i + 1]):
            j = indices[p]
            if seen[j] != i:  # a repeated tie (a teammate who is also an informal tie) once
                seen[j] = i
                indices[out] = j
                out += 1
        indptr[i + 1] = out
    return kept, indptr, indices[:out].copy()


@kernel
def _departments(sites, dept_site, team_dept, per):
    """Departments of new teams at ``sites``: their site's newest while it has room, else new.

    Sites are served in order (lowest first), a site's teams in their order, so new
    departments are numbered by site. Returns each team's department and the sites of the
    departments opened (numbered from ``dept_site.size`` on).
    """
    n_depts = dept_site.size
    top = -1  # the highest site (loops: ``max()`` of an array compiles slowly)
    for s in sites:
        top = max(top, s)
    for s in dept_site:
        top = max(top, s)
    n_sites = 1 + top
    newest = np.full(n_sites, -1, np.int64)
    for d in range(n_depts):
        newest[dept_site[d]] = d
    teams_in = np.zeros(n_depts + sites.size, np.int64)
    for d in team_dept:
        teams_in[d] += 1
    depts = np.empty(sites.size, np.int32)
    opened = np.empty(sites.size, np.int32)
    n_opened = 0
    order = group_by(sites, n_sites)[1]  # by site, in their order
    for i in order:
        s = sites[i]
        d = newest[s]
        if d < 0 or teams_in[d] >= per:
            d = n_depts + n_opened
            opened[n_opened] = s
            n_opened += 1
            newest[s] = d
        depts[i] = d
        teams_in[d] += 1
    return depts, opened[:n_opened]


@kernel
def _positions_of(kind, m, value):
    """Positions ``k < m`` where ``kind[k] == value``, in order."""
    count = 0
    for k in range(m):
        count += kind[k] == value
    out = np.empty(count, np.int64)
    count = 0
    for k in range(m):
        if kind[k] == value:
            out[count] = k
            count += 1
    return out


@kernel
def _team_ties(members, team, new, n_teams):
    """Ties from each of ``new`` to every other member of its team (two newcomers tie once).

    ``members`` and ``new`` are sorted slots; ``team`` holds every slot's team. Only the
    newcomers' teams are gathered (their members in slot order), not the whole company.
    """
    touched = np.zeros(n_teams, np.bool_)
    for i in new:
        touched[team[i]] = True
    mine = members[touched[team[members]]]  # the newcomers' teams' members, in slot order
    start, order = group_by(team[mine], n_teams)
    by_team = mine[order]
    is_new = np.zeros(members[-1] + 1, np.bool_)
    is_new[new] = True
    team_of = team[new]
    total = 0
    for g in team_of:
        total += start[g + 1] - start[g]
    src = np.empty(total, np.int64)
    dst = np.empty(total, np.int64)
    out = 0
    for k in range(new.size):
        i, g = new[k], team_of[k]
        for p in range(start[g], start[g + 1]):
            j = by_team[p]
            if j != i and not (is_new[j] and j < i):
                src[out], dst[out] = i, j
                out += 1
    return src[:out], dst[:out]


@kernel
def _add_tie_shares(indptr, indices, slots, out):
    """Add to ``out[j]`` the share of j's ties that go to ``slots``, for each tie of ``slots``."""
    for s in slots:
        for j in indices[indptr[s] : indptr[s + 1]]:
            out[j] += 1.0 / (indptr[j + 1] - indptr[j])


#: Sources one breadth-first sweep carries: one bit each of a byte per node.
SOURCES_PER_SWEEP = 8

#: The lowest set bit of each byte value (counting a byte's bits one by one).
_LOWEST_BIT = np.array([(b & -b).bit_length() - 1 for b in range(256)], np.int64)


@kernel
def _count_bits(counts, depth, bits):
    """Add 1 to ``counts[b, depth]`` for each bit ``b`` set in the byte ``bits``."""
    left = np.int64(bits)
    while left:
        counts[_LOWEST_BIT[left], depth] += 1
        left &= left - 1


@kernel
def _bfs_levels(indptr, indices, nodes, sources, seen, front, found, queue, fresh, counts):
    """Breadth-first search from up to 8 ``sources`` at once, counting nodes per hop.

    Bit ``b`` of a node's byte stands for ``sources[b]`` (Then et al. 2014's multi-source
    BFS): one sweep over the ties serves every source, so a small network's eight searches
    cost little more than one. Level by level; a level whose frontier is large is found
    bottom-up (every node not yet reached by all sources ORs its ties' frontier bits and stops
    once it has them all: Beamer, Asanovic & Patterson 2012), which checks far fewer ties in
    the middle levels of a small world; a small frontier pushes to its ties (top-down).
    ``nodes`` must hold every node with a tie (leavers and unused slots need not be swept).
    ``seen``, ``front`` and ``found`` (uint8, all 0 on entry; ``front`` and ``found`` are 0
    again on exit, ``seen`` is not), ``queue`` and ``fresh`` are work arrays of the graph's
    size (the two pairs swap roles level by level); ``counts[b, d]`` (zeros) gets the number
    of nodes at hop ``d`` from ``sources[b]``, counted as they are reached.
    Returns the deepest level any source reached.
    """
    everyone = 0
    m = 0  # the frontier is queue[:m]
    for b in range(sources.size):
        s = sources[b]
        if front[s] == 0:
            queue[m] = s
            m += 1
        seen[s] |= np.uint8(1 << b)
        front[s] |= np.uint8(1 << b)
        everyone |= 1 << b
    n, reached, depth = nodes.size, m, 0
    while m > 0:
        depth += 1
        t = 0  # nodes reached at this level, by one source or more: fresh[:t]
        if m * 14 > n - reached:  # bottom-up
            for v in nodes:
                missing = everyone & ~seen[v]
                if missing:
                    got = 0
                    for p in range(indptr[v], indptr[v + 1]):
                        got |= front[indices[p]]
                        if got & missing == missing:
                            break
                    got &= missing
                    if got:
                        found[v] = got
                        seen[v] |= got
                        fresh[t] = v
                        t += 1
                        _count_bits(counts, depth, got)
        else:  # top-down
            for q in range(m):
                v = queue[q]
                bits = front[v]
                for p in range(indptr[v], indptr[v + 1]):
                    w = indices[p]
                    got = bits & ~seen[w]
                    if got:
                        if found[w] == 0:
                            fresh[t] = w
                            t += 1
                        found[w] |= got
                        seen[w] |= got
                        _count_bits(counts, depth, got)
        for q in range(m):
            front[queue[q]] = 0
        front, found = found, front  # this level's nodes are the next frontier
        queue, fresh = fresh, queue
        m = t
        reached += t
    return depth - 1


@kernel
def inverse_distance_sum(indptr, indices, sources, nodes):
    """Sum of 1/d(s, j) over ``sources`` s and the nodes j they reach (j != s).

    Breadth-first searches over the CSR graph ``(indptr, indices)``, eight sources a sweep
    (:func:`_bfs_levels`); unreachable nodes add 0. The sum runs source by source in the
    order given, nearest hop first. ``nodes`` holds every node with a tie (e.g. the alive
    slots).
    """
    n = indptr.size - 1
    seen, front = np.zeros(n, np.uint8), np.zeros(n, np.uint8)
    found = np.zeros(n, np.uint8)
    queue, fresh = np.empty(n, np.int32), np.empty(n, np.int32)
    total = 0.0
    for first in range(0, sources.size, SOURCES_PER_SWEEP):
        group = sources[first : first + SOURCES_PER_SWEEP]
        counts = np.zeros((group.size, nodes.size + 2), np.int64)
        deepest = _bfs_levels(
            indptr, indices, nodes, group, seen, front, found, queue, fresh, counts
        )
        for b in range(group.size):
            for d in range(1, deepest + 1):
                total += counts[b, d] / d
        seen[:] = 0
    return total


@kernel
def mean_inverse_distance(indptr, indices, sources, nodes):
    """Mean of 1/d(s, j) over ``sources`` s and ``nodes`` j != s (0 with < 2 nodes or no source).

    Global efficiency (Latora & Marchiori 2001) estimated from those sources; see
    :func:`inverse_distance_sum`.
    """
    if nodes.size < 2 or sources.size == 0:
        return 0.0
    total = inverse_distance_sum(indptr, indices, sources, nodes)
    return total / (sources.size * (nodes.size - 1))


def user_network(kind: str, n: int, degree: int, streams) -> sp.csr_matrix | None:
    """Build the social network among ``n`` potential users as a symmetric CSR matrix.

    Built with NumPy rather than networkx so that a million users take seconds, not minutes.

    Args:
        kind: ``"small_world"`` (a ring lattice of ``degree`` neighbours with 10% of ties rewired,
            after Watts & Strogatz 1998), ``"scale_free"`` (Chung-Lu random graph with power-law
            expected degrees, exponent 2.5) or ``"mixed"`` (no graph: a mean field, returns None).
        n: Number of users.
        degree: Mean number of ties per user.
        streams: The run's random streams (:class:`culturesim.random.Streams`).
    """
    if kind == "mixed" or n < 2:
        return None
    s = streams["user_network"]
    half = max(1, degree // 2)
    if kind == "small_world":
        src, dst = _ring_ties(n, half, s.key, s.position(0), s.position(0, 1))
    elif kind == "scale_free":
        gamma = 2.5
        weights = powers(np.arange(1.0, n + 1.0), -1.0 / (gamma - 1.0))
        cdf = np.cumsum(weights)
        cdf /= cdf[-1]
        m = n * half
        src = np.minimum(np.searchsorted(cdf, s.uniform(0, m)), n - 1)
        dst = np.minimum(np.searchsorted(cdf, s.uniform(0, m, part=1)), n - 1)
    else:
        raise ValueError(f"unknown user network {kind!r}; allowed: small_world, scale_free, mixed")
    indptr, indices = _symmetric_rows(src, dst, n)
    ones = np.ones(indices.size, dtype=np.float32)
    return sp.csr_matrix((ones, indices, indptr), shape=(n, n))  # canonical: sorted, no repeats


@kernel
def _ring_ties(n, half, key, rewire_at, target_at):
    """A ring lattice's ties, each user to the next ``half``, 10% of far ends rewired.

    Tie ``k`` is user ``k // half`` to the ``k % half + 1``-th next user around the ring, or,
    where draw ``k`` at ``rewire_at`` of the stream with ``key`` is below 0.1, to user
    ``floor(u * n)`` for draw ``k`` at ``target_at``.
    """
    src = np.empty(n * half, np.int32)
    dst = np.empty(n * half, np.int32)
    rewire, target = cursor(key, rewire_at), cursor(key, target_at)
    for i in range(n):
        for h in range(half):
            k = i * half + h
            src[k] = i
            u, rewire = uniform_at(rewire, k)
            if u < 0.1:
                v, target = uniform_at(target, k)
                dst[k] = np.int64(v * n)
            else:
                dst[k] = (i + h + 1) % n
    return src, dst


@kernel
def _symmetric_rows(src, dst, n):
    """Each user's ties as CSR rows: both ends of every pair, sorted, without self-ties or repeats.

    Counting sort by user, then each row sorted in place (by insertion: rows are about
    ``degree`` long, but for a scale-free market's hubs) and its repeats dropped: about linear
    in the ties, where sorting every pair's key took most of a market's set-up. The rows are
    the canonical CSR of the pairs (what ``scipy.sparse`` made of them before).
    """
    count = np.zeros(n + 1, np.int64)
    for k in range(src.size):
        if src[k] != dst[k]:
            count[src[k] + 1] += 1
            count[dst[k] + 1] += 1
    start = count  # the running sum: row r's ties start at start[r]
    for r in range(n):
        start[r + 1] += start[r]
    fill = start[:-1].copy()
    ties = np.empty(start[-1], np.int32)
    for k in range(src.size):
        a, b = src[k], dst[k]
        if a != b:
            ties[fill[a]] = b
            fill[a] += 1
            ties[fill[b]] = a
            fill[b] += 1
    indptr = np.zeros(n + 1, np.int32)
    kept = 0
    for r in range(n):
        first, end = start[r], start[r + 1]
        if end - first > 32:  # a hub of a scale-free market
            heap_sort(ties, first, end)
        else:
            insertion_sort(ties, first, end)
        for i in range(first, end):
            if i == first or ties[i] != ties[i - 1]:
                ties[kept] = ties[i]
                kept += 1
        indptr[r + 1] = kept
    return indptr, ties[:kept]


@kernel
def _ties_among(indptr, indices, members):
    """The CSR arrays ``(indptr, indices)`` without the ties that touch a non-member."""
    out_ptr = np.zeros_like(indptr)
    out = np.empty_like(indices)
    m = 0
    for i in range(indptr.size - 1):
        if members[i]:
            for p in range(indptr[i], indptr[i + 1]):
                if members[indices[p]]:
                    out[m] = indices[p]
                    m += 1
        out_ptr[i + 1] = m
    return out_ptr, out[:m]
