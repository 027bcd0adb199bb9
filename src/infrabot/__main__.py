"""``python -m infrabot`` runs the ``infrabot`` command."""

import sys

from infrabot.cli import main

sys.exit(main())
