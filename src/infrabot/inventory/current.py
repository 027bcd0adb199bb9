"""The one holder of the index that is answering now; a reload swaps it whole.

Everything that answers from the inventory (the router, the pager, the alert intake) calls the
holder for the index at that moment, so a reload is one assignment here: commands already
running finish on the index they started with, and the next one sees the new.
"""

from __future__ import annotations

import time

from infrabot.inventory.index import Index

__all__ = ["CurrentIndex"]


class CurrentIndex:
    """Call it for the index answering now; :meth:`swap` installs the next one."""

    def __init__(self, index: Index) -> None:
        self._index = index
        self.loaded_at = time.time()
        """When the index answering now was installed (wall-clock seconds)."""

    def __call__(self) -> Index:
        """The index answering now."""
        return self._index

    def swap(self, index: Index) -> Index:
        """Answer from ``index`` from now on; returns the one it replaces."""
        old, self._index = self._index, index
        self.loaded_at = time.time()
        return old
