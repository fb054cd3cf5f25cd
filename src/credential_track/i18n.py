"""Languages: Simplified Chinese and English (Flask-Babel)."""
from __future__ import annotations

import os
from pathlib import Path

from flask import request, session
from flask_babel import Babel

LOCALES = {"zh": "zh_Hans_CN", "en": "en"}


def select_locale() -> str:
    """The user's choice (language switch), else the browser's preference;
    outside a request (the CLI) the terminal's language (LC_ALL, LANG),
    Chinese unless it is English."""
    from flask import has_request_context

    from .security import is_token_request

    if not has_request_context():
        lang = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
        return "en" if lang.startswith("en") else LOCALES["zh"]

    # a token request carries no session: only its Accept-Language counts
    chosen = session.get("lang") if _has_session() and not is_token_request(request) else None
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
    compile_catalogs()
    Babel(app, locale_selector=select_locale,
          default_translation_directories="translations")

    from .messages import action_text, role_text, status_text

    app.jinja_env.globals.update(action_text=action_text, role_text=role_text, status_text=status_text)

    @app.context_processor
    def _lang():
        return {"current_lang": current_lang()}


TRANSLATIONS = Path(__file__).parent / "translations"
PO_PATH = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None}


def compile_catalogs(force: bool = False) -> None:
    """Compile messages.po to messages.mo when the .mo is missing or older."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    mo_path = PO_PATH.with_suffix(".mo")
    if not force and mo_path.exists() and mo_path.stat().st_mtime >= PO_PATH.stat().st_mtime:
        return
    with open(PO_PATH, "rb") as f:
        catalog = read_po(f)
    tmp = mo_path.with_suffix(f".mo.{os.getpid()}")
    with open(tmp, "wb") as f:
        write_mo(f, catalog)
    os.replace(tmp, mo_path)  # atomic: several app processes may start at once


def extract_messages(root: Path) -> list[str]:
    """Every translatable string in the Python code and the templates."""
    from babel.messages.extract import extract_from_dir

    method_map = [("src/**.py", "python"), ("templates/**.html", "jinja2")]
    seen: dict[str, None] = {}
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(root), method_map=method_map, keywords=KEYWORDS,
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        for m in (message if isinstance(message, tuple) else (message,)):
            if m:
                seen.setdefault(m, None)
    return list(seen)
