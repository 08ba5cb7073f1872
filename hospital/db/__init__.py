"""Database plumbing: the connection pool and the project's database backends."""
