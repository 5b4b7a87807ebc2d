"""Figures of the docking runs (``culturesim dock --figures DIR``; docs/VALIDATION.md shows them).

One PNG per docking: the classic beside its published result, and the company model's own
process beside its classic (:mod:`culturesim.classics.core`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from culturesim.classics import axelrod, bass, core, deffuant, hegselmann_krause, march

__all__ = ["docking_figures"]


def docking_figures(quick: bool = False) -> dict[str, Figure]:
    """Draw every docking figure; return them by file name (``classics.png``, ``core.png``).

    The caller saves them (at 100 dpi, as docs/VALIDATION.md shows them) and closes them.

    Args:
        quick: Fewer replications and shorter runs (as the tests do).
    """
    reps = 3 if quick else 10
    figures = {}

    # classics: Bass closed form; bounded-confidence cluster laws; March Figure 1, turnover and
    # turbulence; Axelrod's Table 1 (F = 5)
    fig, axes = plt.subplots(2, 3, figsize=(15, 8))
    axes = axes.ravel()
    r = bass.simulate(m=5_000, dt=0.02, periods=15)
    axes[0].plot(r.t, r.adopted, label="agent-based")
    axes[0].plot(r.t, r.closed_form, "--", label="Bass closed form")
    axes[0].set(title="Bass (1969), p=0.03, q=0.38", xlabel="time", ylabel="share adopted")
    axes[0].legend()
    ds = np.linspace(0.05, 0.35, 4 if quick else 7)
    dc = [
        np.mean([deffuant.simulate(n=500, d=d, seed=s).clusters for s in range(reps)]) for d in ds
    ]
    hc = [
        np.mean([hegselmann_krause.simulate(n=500, eps=d, seed=s).clusters for s in range(reps)])
        for d in ds
    ]
    axes[1].plot(ds, dc, "o-", label="Deffuant (d)")
    axes[1].plot(ds, hc, "s-", label="Hegselmann-Krause (eps)")
    axes[1].plot(ds, np.maximum(1, np.floor(1 / (2 * ds))), "k:", label="floor(1/(2d))")
    axes[1].set(title="Bounded confidence: clusters", xlabel="confidence", ylabel="clusters")
    axes[1].legend()
    p1s = (0.1, 0.5, 0.9)
    for p2 in (0.1, 0.5, 0.9):
        k = [
            np.mean(
                [
                    march.simulate(
                        p1=p1, p2=p2, periods=300 if quick else 1000, seed=s
                    ).code_knowledge[-1]
                    for s in range(reps)
                ]
            )
            for p1 in p1s
        ]
        axes[2].plot(p1s, k, "o-", label=f"p2 = {p2}")
    axes[2].set(title="March (1991) Fig. 1", xlabel="socialization p1", ylabel="code knowledge")
    axes[2].legend()
    seeds = range(reps)
    for ax, p1, p4, title in (
        (axes[3], 0.9, 0.0, "March: turnover, fast socialization (p1 = 0.9)"),
        (axes[4], 0.1, 0.02, "March: turbulence p4 = 0.02 (p1 = 0.1)"),
    ):
        for p3 in (0.0, 0.1):
            k = march.knowledge_paths(seeds, 150 if quick else 400, p1=p1, p2=0.5, p3=p3, p4=p4)
            ax.plot(k.mean(axis=0), label=f"turnover p3 = {p3}")
        ax.set(title=title, xlabel="period", ylabel="code knowledge")
        ax.legend()
    runs = 10 if quick else 30
    for i, (q, published) in enumerate(((5, 1.0), (10, 3.2), (15, 20.0))):
        regions = [axelrod.simulate(5, q, seed=s).regions for s in range(runs)]
        jitter = np.linspace(-0.15, 0.15, runs)
        axes[5].plot(i + jitter, regions, ".", color="0.6", label="runs" if i == 0 else None)
        axes[5].plot(i, np.mean(regions), "o", color="C0", label="mean" if i == 0 else None)
        axes[5].plot(i, published, "x", color="C3", ms=10, label="Table 1" if i == 0 else None)
    axes[5].set(
        title="Axelrod (1997) Table 1, F = 5, 10 x 10",
        xticks=[0, 1, 2],
        xticklabels=["q = 5", "q = 10", "q = 15"],
        ylabel="stable regions",
    )
    axes[5].legend()
    fig.tight_layout()
    figures["classics.png"] = fig

    # the company model's own processes, the others switched off
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    seeds = range(reps)
    for p2, style in ((0.1, "o-"), (0.9, "s-")):
        means = [core.march_knowledge(p1, p2, seeds).mean() for p1 in (0.1, 0.5, 0.9)]
        axes[0, 0].plot((0.1, 0.5, 0.9), means, style, label=f"p2 = {p2}")
    axes[0, 0].set(
        title="(a) knowledge process ~ March", xlabel="socialization p1 (per month)",
        ylabel="code knowledge, month 120",
    )  # fmt: skip
    axes[0, 0].legend()
    fit = core.bass_fit(0)
    adopted = core.adoption_curve(0)
    t = np.arange(adopted.size)
    curve = fit["m"] * bass.closed_form(t, fit["p"], fit["q"])
    axes[0, 1].plot(t, adopted, label="users process (mixed market)")
    axes[0, 1].plot(t, curve, "--", label=f"Bass fit p={fit['p']:.3f}, q={fit['q']:.2f}")
    axes[0, 1].set(title="(b) users ~ Bass", xlabel="month", ylabel="share ever adopted")
    axes[0, 1].legend()
    for g, label in ((0.3, "growth +30%/yr"), (-0.2, "decline -20%/yr")):
        a = core.culture_alignment(g, seeds)
        axes[1, 0].plot(a.mean(axis=0), label=label)
    axes[1, 0].axvspan(84, 120, color="0.9", label="equilibrium, months 84-120")
    axes[1, 0].set(
        title="(c) culture ~ Harrison & Carroll", xlabel="month", ylabel="culture alignment"
    )
    axes[1, 0].legend()
    for d in (0.1, 0.2, 0.35):
        n = core.coworker_clusters(d, seeds)
        axes[1, 1].bar(str(d), np.mean(n), yerr=np.std(n), capsize=4)
    # the mean-field law holds below consensus (d ~ 0.27): one cluster above, as the check says
    axes[1, 1].plot(["0.1", "0.2", "0.35"], [5, 2.5, 1], "k:", label="1/(2d); 1 above d ~ 0.27")
    axes[1, 1].set(
        title="(d) coworkers ~ Deffuant", xlabel="confidence d", ylabel="value clusters, month 120"
    )
    axes[1, 1].legend()
    fig.tight_layout()
    figures["core.png"] = fig
    return figures
