"""Cassettes: record real exchanges with the target, redact their secrets, replay them offline."""
