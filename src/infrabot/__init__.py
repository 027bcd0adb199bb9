"""infrabot: a chat bot that knows who owns a service, where it runs, and who to page."""

__version__ = "0.1.0"
__all__ = ["__version__"]
