"""`python -m cfai`: the `cfai` command."""

from __future__ import annotations

import sys

from cfai.cli import main

sys.exit(main())
