"""Allow ``python -m culturesim``."""

from culturesim.cli import console

console()
