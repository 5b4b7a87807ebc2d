"""Reference implementations of the published models culturesim's core is docked to.

Each module has a ``simulate(...)`` whose parameters carry the paper's names and defaults, and
shares its kernel with the process that uses the mechanism: one Bass hazard
(:func:`culturesim.processes.users.bass_hazard`), one bounded-confidence update
(:func:`culturesim.processes.culture.bounded_confidence`) and one March code-learning step
(:func:`culturesim.processes.knowledge.learn_code`).
"""
