"""``python -m bot.cli``: the ``skillbot`` command without its installed script."""

import sys

from bot.cli import main

sys.exit(main())
