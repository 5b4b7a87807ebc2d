"""The culturesim web UI (Solara): a strategist page and a classroom page.

Start it with ``culturesim ui`` (or ``make demo``); the app module is :mod:`culturesim.ui.app`.
"""
