"""Validation: the Pandera debt schema, one chunk's validation, and the rejects report."""
