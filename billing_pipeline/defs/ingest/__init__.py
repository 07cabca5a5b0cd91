"""Ingest: a file's split, then each chunk validated and loaded."""
