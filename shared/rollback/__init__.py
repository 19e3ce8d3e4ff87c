"""Rollback: undo exactly what a run did, from its write-ahead journal."""
