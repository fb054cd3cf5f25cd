"""Languages: Simplified Chinese and English (Flask-Babel)."""
from __future__ import annotations

from flask import request, session
from flask_babel import Babel

LOCALES = {"zh": "zh_Hans_CN", "en": "en"}


def select_locale() -> str:
    """The user's choice (language switch), else the browser's preference."""
    chosen = session.get("lang") if _has_session() else None
    if chosen in LOCALES:
        return LOCALES[chosen]
    best = request.accept_languages.best_match(["zh", "zh-CN", "zh-Hans", "en"]) if request else None
    if best and best.startswith("en"):
        return "en"
    if best:
        return LOCALES["zh"]
    return LOCALES["zh"]


def _has_session() -> bool:
    try:
        return session is not None and request is not None
    except RuntimeError:
        return False


def current_lang() -> str:
    from flask_babel import get_locale

    loc = get_locale()
    return "en" if loc is not None and loc.language == "en" else "zh"


def init_app(app) -> None:
    Babel(app, locale_selector=select_locale,
          default_translation_directories="translations")

    from .messages import action_text, role_text, status_text

    app.jinja_env.globals.update(action_text=action_text, role_text=role_text, status_text=status_text)

    @app.context_processor
    def _lang():
        return {"current_lang": current_lang()}
