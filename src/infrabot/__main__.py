"""``python -m infrabot`` runs the ``infrabot`` command."""

import sys

from infrabot.cli import main

# the guard matters: a reload of a large inventory starts a child process, which imports
# this module again under another name and must not start a second bot
if __name__ == "__main__":
    sys.exit(main())
