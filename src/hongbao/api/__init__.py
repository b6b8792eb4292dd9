"""The HTTP API (FastAPI): routes call use cases; errors become problem+json once, here."""
