"""Local hardware proxy for the browser POS."""

__version__ = "0.2.0"
