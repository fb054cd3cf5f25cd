"""The JSON API under /api/v1 (token or session auth, roles enforced)."""
from . import admin, dashboard, desk, handover, items, openapi, scans, station  # noqa: F401
from .blueprint import BadRequest, bp

__all__ = ["BadRequest", "bp"]
