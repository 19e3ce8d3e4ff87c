"""The engine: plain Python, importable without azure.functions."""
