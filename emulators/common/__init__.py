"""Pieces both emulators share: serving on loopback, TLS certificates."""
