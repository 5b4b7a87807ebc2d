"""The organization's network: sites, departments, teams with managers, and informal ties.

The initial structure is built with networkx generators (a small-world graph per site laid over
the team order, so informal ties are densest within team, then department, then site) and then
held as edge arrays. Each month the alive part is stepped as a ``scipy.sparse`` CSR matrix, rebuilt
only when people join or leave. New hires attach to a team (ties to every teammate) and make a few
informal ties, mostly within their site; leavers detach (their edges are dropped at the next
rebuild). :meth:`OrgNetwork.to_networkx` gives the alive network for analysis and pictures.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order

__all__ = ["OrgNetwork"]

#: Edge kinds.
TEAM, INFORMAL, MANAGERS, CROSS_SITE = 0, 1, 2, 3


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
        # edges (undirected, stored once)
        self._src = np.zeros(0, dtype=np.int64)
        self._dst = np.zeros(0, dtype=np.int64)
        self._kind = np.zeros(0, dtype=np.int8)
        self._csr: sp.csr_matrix | None = None

    # --- structure -------------------------------------------------------------------------
    @property
    def informal_count(self) -> int:
        """Number of informal ties (including those of leavers not yet pruned)."""
        return int(np.count_nonzero(self._kind == INFORMAL))

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
        depts = np.empty(sites.size, dtype=np.int32)
        per = self.teams_per_department
        for site in np.unique(sites):
            mine = np.flatnonzero(sites == site)
            known = np.flatnonzero(self.dept_site == site)
            newest = int(known[-1]) if known.size else -1
            room = per - int(np.count_nonzero(self.team_dept == newest)) if newest >= 0 else 0
            fill = min(room, mine.size)  # these join the newest department
            depts[mine[:fill]] = newest
            rest = mine.size - fill
            if rest:
                opened = self.dept_site.size + np.arange(-(-rest // per), dtype=np.int32)
                self.dept_site = np.concatenate(
                    [self.dept_site, np.full(opened.size, site, dtype=np.int32)]
                )
                depts[mine[fill:]] = opened[np.arange(rest) // per]
        self.team_site = np.concatenate([self.team_site, sites])
        self.team_dept = np.concatenate([self.team_dept, depts])
        return np.arange(first, self.n_teams, dtype=np.int32)

    # --- ties ------------------------------------------------------------------------------
    def add_edges(self, src: np.ndarray, dst: np.ndarray, kind: int) -> None:
        """Add undirected ties (self-ties are dropped)."""
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        keep = src != dst
        self._src = np.concatenate([self._src, src[keep]])
        self._dst = np.concatenate([self._dst, dst[keep]])
        self._kind = np.concatenate([self._kind, np.full(keep.sum(), kind, dtype=np.int8)])
        self._csr = None

    def rewire(self, count: int, u_edge: np.ndarray, u_node: np.ndarray, nodes: np.ndarray) -> None:
        """Move one end of ``count`` random informal ties to random ``nodes``.

        The stepping matrix is not rebuilt for this: the moved ties count from the next rebuild,
        which comes with the month's hires and departures.

        Args:
            count: Ties to rewire.
            u_edge: ``count`` uniforms choosing the ties.
            u_node: ``count`` uniforms choosing their new ends among ``nodes``.
            nodes: Candidate new ends (alive slots).
        """
        informal = np.flatnonzero(self._kind == INFORMAL)
        if informal.size == 0 or nodes.size == 0 or count <= 0:
            return
        pick = informal[(u_edge[:count] * informal.size).astype(np.int64)]
        self._dst[pick] = nodes[(u_node[:count] * nodes.size).astype(np.int64)]
        # no rebuild now: the moved ties take effect at the next rebuild (after hires/leavers)

    def changed(self) -> None:
        """Mark the stepping matrix stale (people joined or left)."""
        self._csr = None

    def team_edges(self, members: np.ndarray, teams: np.ndarray, new: np.ndarray) -> None:
        """Tie each of ``new`` to every member of its team.

        Args:
            members: Slots of everyone currently in a team (``new`` included).
            teams: Team of each of ``members``.
            new: Slots (a subset of ``members``) that just joined.
        """
        if new.size == 0:
            return
        is_new = np.zeros(members.size, dtype=bool)
        is_new[np.searchsorted(members, new)] = True  # members is sorted (alive ids)
        # only the teams that gained someone matter: sort just their members
        touched = np.zeros(int(teams.max()) + 1, dtype=bool)
        touched[teams[is_new]] = True
        keep = touched[teams]
        members, teams, is_new = members[keep], teams[keep], is_new[keep]
        order = np.argsort(teams, kind="stable")
        s_members, s_teams = members[order], teams[order]
        s_new = is_new[order]
        starts = np.searchsorted(s_teams, s_teams, side="left")
        ends = np.searchsorted(s_teams, s_teams, side="right")
        newcomer_pos = np.flatnonzero(s_new)
        sizes = ends[newcomer_pos] - starts[newcomer_pos]
        src = np.repeat(s_members[newcomer_pos], sizes)
        offsets = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        dst_pos = np.repeat(starts[newcomer_pos], sizes) + offsets
        dst = s_members[dst_pos]
        # two newcomers in one team would tie twice: keep the pair once
        dup = s_new[dst_pos] & (src > dst)
        self.add_edges(src[~dup], dst[~dup], TEAM)

    def build_informal(self, ordered: np.ndarray, sites: np.ndarray, seed: int) -> None:
        """Lay small-world informal ties over employees ordered by site, department and team.

        One Watts-Strogatz graph (networkx) per site over the team order, so ring neighbours are
        teammates and nearby teams, and rewired ties reach across the site.

        Args:
            ordered: Slots in team order.
            sites: Site of each of ``ordered``.
            seed: Seed for the generators.
        """
        for s in np.unique(sites):
            nodes = ordered[sites == s]
            if nodes.size < 5:
                continue
            g = nx.watts_strogatz_graph(nodes.size, k=4, p=0.15, seed=int(seed) + int(s))
            edges = np.asarray(g.edges(), dtype=np.int64).reshape(-1, 2)
            self.add_edges(nodes[edges[:, 0]], nodes[edges[:, 1]], INFORMAL)

    # --- stepping --------------------------------------------------------------------------
    def matrix(self, alive: np.ndarray) -> sp.csr_matrix:
        """Return the symmetric 0/1 adjacency of alive employees (size = population capacity).

        Rebuilt only after people joined or left (:meth:`changed`); edges touching a leaver are
        dropped for good then, and rewired ties take effect then. Repeated ties (a teammate
        who is also an informal tie) count once; self-ties are dropped.
        """
        n = alive.size
        if self._csr is None or self._csr.shape[0] != n:
            keep = alive[self._src] & alive[self._dst] & (self._src != self._dst)
            self._src, self._dst, self._kind = self._src[keep], self._dst[keep], self._kind[keep]
            # both directions as row-major keys (32-bit while they fit: sorting is faster);
            # sorted, they are the CSR order, and repeated ties sit side by side
            key = np.uint32 if n < 2**16 else np.int64
            src, dst = self._src.astype(key), self._dst.astype(key)
            keys = np.concatenate([src * key(n) + dst, dst * key(n) + src])
            keys.sort()
            if keys.size:
                keys = keys[np.r_[True, keys[1:] != keys[:-1]]]
            rows, cols = np.divmod(keys, key(n))
            indptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
            index = np.int32 if n < 2**31 else np.int64
            self._csr = sp.csr_matrix(
                (np.ones(cols.size), cols.astype(index), indptr.astype(index)), shape=(n, n)
            )
        return self._csr

    def neighbour_mean(self, alive: np.ndarray, x: np.ndarray, default: np.ndarray | float):
        """Mean of ``x`` over each slot's alive neighbours (``default`` where there are none)."""
        a = self.matrix(alive)
        deg = np.diff(a.indptr)
        total = a @ x
        scale = 1.0 / np.maximum(deg, 1)
        mean = total * (scale[:, None] if x.ndim == 2 else scale)
        mean[deg == 0] = default
        return mean

    def neighbour_share(self, alive: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """Share of each slot's ties that go to ``slots`` (a full-capacity array).

        The same as ``neighbour_mean`` of an indicator of ``slots`` (0 where a slot has no
        ties), but it only walks the ties of ``slots``.
        """
        a = self.matrix(alive)
        starts, stops = a.indptr[slots], a.indptr[np.asarray(slots) + 1]
        sizes = stops - starts
        pos = np.repeat(starts - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
        counts = np.bincount(a.indices[pos], minlength=alive.size)
        return counts / np.maximum(np.diff(a.indptr), 1)

    def random_neighbour(self, alive: np.ndarray, u: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """Pick one alive neighbour for each of ``slots`` (-1 where a slot has none).

        Args:
            alive: The population's alive mask.
            u: Uniforms by slot (slot ``i`` uses ``u[i]``).
            slots: Whose neighbour to pick.
        """
        a = self.matrix(alive)
        start = a.indptr[slots]
        deg = a.indptr[np.asarray(slots) + 1] - start
        pos = start + np.minimum((u[slots] * deg).astype(np.int64), deg - 1)
        out = np.full(deg.size, -1, dtype=np.int64)
        has = deg > 0
        out[has] = a.indices[pos[has]]
        return out

    def efficiency(self, alive: np.ndarray, sources: np.ndarray) -> float:
        """Global efficiency (Latora & Marchiori 2001) estimated from BFS at ``sources``.

        Mean of 1/d(s, j) over sources s and alive j != s, with 1/inf = 0.
        """
        n_alive = int(alive.sum())
        if n_alive < 2 or sources.size == 0:
            return 0.0
        a = self.matrix(alive)  # leavers have no ties left: unreachable, they add nothing
        total = 0.0
        for s in sources:
            order, pred = breadth_first_order(a, int(s), directed=True, return_predecessors=True)
            counts = bfs_level_sizes(order, pred)
            total += float(np.sum(counts[1:] / np.arange(1, counts.size)))
        return total / (sources.size * (n_alive - 1))

    def to_networkx(self, alive: np.ndarray) -> nx.Graph:
        """Return the alive network as a networkx graph (nodes are slots, edges carry ``kind``)."""
        self.matrix(alive)  # prune edges of leavers
        g = nx.Graph()
        g.add_nodes_from(np.flatnonzero(alive).tolist())
        names = {TEAM: "team", INFORMAL: "informal", MANAGERS: "managers", CROSS_SITE: "cross_site"}
        g.add_edges_from(
            (int(s), int(d), {"kind": names[int(k)]})
            for s, d, k in zip(self._src, self._dst, self._kind, strict=True)
        )
        return g


def bfs_level_sizes(order: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Number of nodes at each hop distance from the BFS root (the root is level 0).

    Breadth-first order lists the levels one after another, and nodes are discovered in the
    order their parents were visited, so the parents' positions never decrease along the order.
    Level ``L + 1`` therefore starts at the first node whose parent sits at or after the start
    of level ``L``: one binary search per level.

    Args:
        order: Nodes in breadth-first order, as returned by ``breadth_first_order``.
        pred: Predecessor of every node (negative for the root and unreached nodes).

    Returns:
        Sizes of levels 0, 1, 2, ... (they sum to ``order.size``).
    """
    index = np.empty(pred.size, dtype=np.int64)
    index[order] = np.arange(order.size)
    parent_pos = index[np.maximum(pred[order[1:]], 0)]  # parents of order[1:], nondecreasing
    bounds = [0, 1]  # level 0 is the root alone
    while bounds[-1] < order.size:  # each pass moves on: a node's parent precedes it
        bounds.append(1 + int(np.searchsorted(parent_pos, bounds[-1], side="left")))
    return np.diff(bounds)


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
        src = np.repeat(np.arange(n, dtype=np.int64), half)
        dst = (src + np.tile(np.arange(1, half + 1), n)) % n
        rewire = s.uniform(0, src.size) < 0.1
        dst[rewire] = (s.uniform(0, src.size, part=1)[rewire] * n).astype(np.int64)
    elif kind == "scale_free":
        gamma = 2.5
        weights = (np.arange(n) + 1.0) ** (-1.0 / (gamma - 1.0))
        cdf = np.cumsum(weights)
        cdf /= cdf[-1]
        m = n * half
        src = np.minimum(np.searchsorted(cdf, s.uniform(0, m)), n - 1)
        dst = np.minimum(np.searchsorted(cdf, s.uniform(0, m, part=1)), n - 1)
    else:
        raise ValueError(f"unknown user network {kind!r}; allowed: small_world, scale_free, mixed")
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    keys = np.sort((lo * n + hi)[lo != hi])  # sort + drop repeats: np.unique's hashing is slower
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]] if keys.size else keys
    lo, hi = keys // n, keys % n
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(lo, minlength=n), out=indptr[1:])
    upper = sp.csr_matrix((np.ones(lo.size, dtype=np.float32), hi, indptr), shape=(n, n))
    return (upper + upper.T).tocsr()
