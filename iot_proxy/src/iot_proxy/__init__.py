"""Local hardware proxy for the browser POS."""

__version__ = "0.1.0"
