"""Calibration: the baseline's voluntary attrition sits near the tech-sector figure.

LinkedIn's 2018 talent-turnover analysis put annual turnover in technology (software) at 13.2%;
the acceptance band 10-18% allows for a young, fast-growing company (source in docs/ODD.md).
"""

import numpy as np

from culturesim import simulate


def test_baseline_attrition_is_calibrated(baseline):
    means = [
        simulate(baseline, seed=seed).kpis.loc[13:60, "attrition_rate_annual"].mean()
        for seed in range(20)
    ]
    overall = float(np.mean(means))
    assert 0.10 <= overall <= 0.18, overall
