"""``python -m sktransfer``: the same as the ``sktransfer`` command."""

import sys

from .cli import main

sys.exit(main())
