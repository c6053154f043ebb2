"""research: a markdown-driven research notebook engine."""

__version__ = "0.1.0"
