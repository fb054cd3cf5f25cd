"""Kept for older imports: the words live in vocabulary.py."""
from __future__ import annotations

from .vocabulary import action_text, reason_text, role_text, scan_message, status_text

__all__ = ["action_text", "reason_text", "role_text", "scan_message", "status_text"]
