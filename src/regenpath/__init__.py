"""regenpath: the orthobiologic therapy care pathway of a clinic, and honest evidence from it."""

__version__ = "0.1.0"
