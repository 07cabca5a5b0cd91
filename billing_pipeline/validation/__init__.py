"""Pandera schemas, stable reject codes and the rejects report."""
