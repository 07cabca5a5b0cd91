"""The store: SQLAlchemy Core over SQLite (embedded default) or PostgreSQL, schema from versioned SQL files."""
