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
    c = rng.integers(0, traits, size=(n, features))
    neighbours = [[] for _ in range(n)]
    for a, b in _neighbour_pairs(height, width):
        neighbours[a].append(b)
        neighbours[b].append(a)
    pairs = _neighbour_pairs(height, width)
    cells = c.tolist()
    events, picks, batch = 0, 0, 20_000
    while picks < max_events:
        sites = rng.integers(0, n, batch)
        u_neighbour = rng.random(batch)
        u_interact = rng.random(batch)
        u_feature = rng.random(batch)
        for k in range(batch):
            s = int(sites[k])
            ns = neighbours[s]
            other = cells[ns[int(u_neighbour[k] * len(ns))]]
            mine = cells[s]
            differ = [i for i in range(features) if mine[i] != other[i]]
            if differ and len(differ) < features and u_interact[k] < 1 - len(differ) / features:
                f = differ[int(u_feature[k] * len(differ))]
                mine[f] = other[f]
                events += 1
        picks += batch
        if _absorbed(np.asarray(cells), pairs):
            arr = np.asarray(cells).reshape(height, width, features)
            return AxelrodResult(arr, stable_regions(arr), events, True)
    arr = np.asarray(cells).reshape(height, width, features)
    return AxelrodResult(arr, stable_regions(arr), events, False)
