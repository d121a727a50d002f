"""Entrypoints: the HTTP API, the web pages and the CLI. They call use cases, nothing deeper."""
