"""Django's SQLite and MySQL backends with a process-wide connection pool (see pooling.py)."""
