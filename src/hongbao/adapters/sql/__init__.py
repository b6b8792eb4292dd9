"""SQL store on SQLAlchemy Core: SQLite (embedded, WAL) and PostgreSQL (scaled)."""
