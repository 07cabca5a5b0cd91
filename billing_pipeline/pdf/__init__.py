"""Boleto documents: a Jinja2 + WeasyPrint layout drawn once, each debt's values stamped onto it."""
