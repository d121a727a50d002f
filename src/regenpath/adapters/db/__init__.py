"""SQL storage: SQLAlchemy 2 tables, repositories, the Unit of Work and Alembic migrations."""
