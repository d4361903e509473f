"""`python -m qa` is the `qa` command."""

import sys

from .cli import main

sys.exit(main())
