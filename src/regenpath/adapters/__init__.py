"""Adapters: implementations of the services' ports (storage, and later FHIR, notify, analytics)."""
