"""The pure domain core: no I/O, no framework, no clock (``now`` is always passed in)."""
