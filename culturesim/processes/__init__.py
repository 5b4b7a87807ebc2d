"""The submodels, one module each, in the order they run every month (DESIGN section 4).

Each process is a small class with ``setup(model)`` (company-level state it owns) and
``step(model)`` (one month). Processes read and write the model's arrays; none loops over agents
in Python. Events (step 1 of the month) are not a process: they are Mesa events, fired just
before the step of their month (:mod:`culturesim.processes.events`).
"""

from culturesim.processes.brand import Brand
from culturesim.processes.culture import Culture
from culturesim.processes.engagement import Engagement
from culturesim.processes.finance import Finance
from culturesim.processes.hiring import Hiring
from culturesim.processes.knowledge import Knowledge
from culturesim.processes.partners import Partners
from culturesim.processes.skill import Skill
from culturesim.processes.turnover import Turnover
from culturesim.processes.users import Users

#: The month, in order (after the events due this month and before the KPIs are recorded).
DEFAULT_PROCESSES = (
    Finance,
    Knowledge,
    Culture,
    Skill,
    Engagement,
    Turnover,
    Hiring,
    Users,
    Partners,
    Brand,
)

__all__ = [
    "DEFAULT_PROCESSES",
    "Brand",
    "Culture",
    "Engagement",
    "Finance",
    "Hiring",
    "Knowledge",
    "Partners",
    "Skill",
    "Turnover",
    "Users",
]
