"""Deterministic Durable orchestrators: migrate, delta, rollback."""
