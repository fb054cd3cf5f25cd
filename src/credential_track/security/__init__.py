"""Security, enforced here once for pages and API: `authentication` (who is
asking and whether the role may) and `hardening` (CSRF, headers, limits,
malformed requests, uploads, error pages)."""
from __future__ import annotations

from .authentication import (
    SESSION_KEY,
    Actor,
    LoginUser,
    api_require,
    current_actor,
    end_browser_session,
    is_token_request,
    login_manager,
    page_require,
    start_browser_session,
)
from .hardening import check_upload, csrf, init_app, limiter

__all__ = ["SESSION_KEY", "Actor", "LoginUser", "api_require", "check_upload", "csrf", "current_actor",
           "end_browser_session", "init_app", "is_token_request", "limiter", "login_manager", "page_require",
           "start_browser_session"]
