"""Request and answer models of every /api/v1 endpoint (pydantic)."""
