"""Axelrod (1997): the dissemination of culture.

Sites on a ``width`` x ``height`` grid (not wrapped) each hold a culture of ``features`` features,
each one of ``traits`` traits, drawn uniformly. An event picks a random site and one of its von
Neumann neighbours at random; with chance equal to the share of features they have in common, the
site copies one of the neighbour's differing features (chosen at random). The run ends in an
absorbing state where every pair of neighbours shares all features or none. The paper reports
the number of stable regions (connected areas of identical culture) — its Table 1 — and the
number of events (changes) it took.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import label

from culturesim.compiled import kernel

__all__ = ["AxelrodResult", "simulate", "stable_regions"]


@dataclass
class AxelrodResult:
    """Final cultures, stable regions and events.

    Attributes:
        cultures: Array (height, width, features) of traits.
        regions: Number of stable regions.
        events: Number of changes (copied features) until the absorbing state.
        absorbed: Whether the absorbing state was reached.
    """

    cultures: np.ndarray
    regions: int
    events: int
    absorbed: bool


def _neighbour_pairs(height: int, width: int) -> np.ndarray:
    idx = np.arange(height * width).reshape(height, width)
    right = np.column_stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()])
    down = np.column_stack([idx[:-1, :].ravel(), idx[1:, :].ravel()])
    return np.vstack([right, down])


def _absorbed(c: np.ndarray, pairs: np.ndarray) -> bool:
    same = (c[pairs[:, 0]] == c[pairs[:, 1]]).sum(axis=1)
    return bool(np.all((same == 0) | (same == c.shape[1])))


def stable_regions(cultures: np.ndarray) -> int:
    """Number of connected (von Neumann) areas of identical culture."""
    h, w, f = cultures.shape
    flat = cultures.reshape(h * w, f)
    _, ids = np.unique(flat, axis=0, return_inverse=True)
    ids = ids.reshape(h, w)
    return int(sum(label(ids == k)[1] for k in np.unique(ids)))


def simulate(
    features: int = 5,
    traits: int = 10,
    width: int = 10,
    height: int = 10,
    seed: int = 0,
    max_events: int = 5_000_000,
) -> AxelrodResult:
    """Run Axelrod's model to its absorbing state.

    Args:
        features: Cultural features per site (Axelrod's F).
        traits: Traits per feature (Axelrod's q).
        width: Grid width.
        height: Grid height.
        seed: Random seed.
        max_events: Give up after this many picks (then ``absorbed`` is False).
    """
    rng = np.random.default_rng(seed)
    n = width * height
    cells = rng.integers(0, traits, size=(n, features))
    pairs = _neighbour_pairs(height, width)
    neighbours = np.zeros((n, 4), dtype=np.int64)  # von Neumann: 2 to 4 each, in pair order
    degree = np.zeros(n, dtype=np.int64)
    for a, b in pairs:
        neighbours[a, degree[a]] = b
        degree[a] += 1
        neighbours[b, degree[b]] = a
        degree[b] += 1
    events, picks, batch = 0, 0, 20_000
    while picks < max_events:
        sites = rng.integers(0, n, batch)
        u_neighbour = rng.random(batch)
        u_interact = rng.random(batch)
        u_feature = rng.random(batch)
        events += _events(cells, neighbours, degree, sites, u_neighbour, u_interact, u_feature)
        picks += batch
        if _absorbed(cells, pairs):
            arr = cells.reshape(height, width, features)
            return AxelrodResult(arr, stable_regions(arr), events, True)
    arr = cells.reshape(height, width, features)
    return AxelrodResult(arr, stable_regions(arr), events, False)


@kernel
def _events(cells, neighbours, degree, sites, u_neighbour, u_interact, u_feature):
    """Play a batch of picks on ``cells`` in place; return how many changed a feature.

    Pick ``k``: site ``sites[k]`` meets its neighbour ``u_neighbour[k]`` chooses; with chance
    (shared features) / features (``u_interact[k]``) it copies the differing feature
    ``u_feature[k]`` chooses.
    """
    features = cells.shape[1]
    differ = np.empty(features, np.int64)
    events = 0
    for k in range(sites.size):
        s = sites[k]
        o = neighbours[s, int(u_neighbour[k] * degree[s])]
        m = 0
        for i in range(features):
            if cells[s, i] != cells[o, i]:
                differ[m] = i
                m += 1
        if 0 < m < features and u_interact[k] < 1 - m / features:
            f = differ[int(u_feature[k] * m)]
            cells[s, f] = cells[o, f]
            events += 1
    return events
