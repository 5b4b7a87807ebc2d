"""Allow ``python -m culturesim``."""

import sys

from culturesim.cli import main

sys.exit(main())
