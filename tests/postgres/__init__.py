"""Multi-process proofs: the shop under gunicorn with several workers on PostgreSQL."""
