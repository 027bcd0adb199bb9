"""The inventory: what the team runs, where, and who to ask.

``model`` declares its shape, ``load`` reads and validates a file, ``index`` answers lookups.
"""

from infrabot.inventory.index import Index, normalize
from infrabot.inventory.load import load_inventory, parse_inventory
from infrabot.inventory.model import Inventory

__all__ = ["Index", "Inventory", "load_inventory", "normalize", "parse_inventory"]
