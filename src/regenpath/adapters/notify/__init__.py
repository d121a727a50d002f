"""Outgoing messages: email over SMTP."""
