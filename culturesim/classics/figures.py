"""Figures of the docking runs (``culturesim dock --figures DIR``; docs/VALIDATION.md shows them).

One PNG per docking: the classic beside its published result, and the company model's own
process beside its classic (:mod:`culturesim.classics.core`).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from culturesim.classics import bass, core, deffuant, hegselmann_krause, march

__all__ = ["write_figures"]


def _save(fig, out: Path, name: str) -> Path:
    path = out / f"{name}.png"
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_figures(out: str | Path, quick: bool = False) -> list[Path]:
    """Draw every docking figure into ``out`` (created if missing); return the files written.

    Args:
        out: Folder for the PNG files.
        quick: Fewer replications and shorter runs (as the tests do).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    reps = 3 if quick else 10
    paths = []

    # classics: Bass closed form; bounded-confidence cluster laws; March Figure 1
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
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
    paths.append(_save(fig, out, "classics"))

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
    e = np.exp(-(fit["p"] + fit["q"]) * t)
    curve = fit["m"] * (1 - e) / (1 + fit["q"] / fit["p"] * e)
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
    axes[1, 1].plot(["0.1", "0.2", "0.35"], [5, 2.5, 1.4], "k:", label="1/(2d), mean field")
    axes[1, 1].set(
        title="(d) coworkers ~ Deffuant", xlabel="confidence d", ylabel="value clusters, month 120"
    )
    axes[1, 1].legend()
    paths.append(_save(fig, out, "core"))
    return paths
