"""Languages: Simplified Chinese and English (Flask-Babel)."""
from __future__ import annotations

import os
from pathlib import Path

from flask import request, session
from flask_babel import Babel

LOCALES = {"zh": "zh_Hans_CN", "en": "en"}


def select_locale() -> str:
    """The user's choice (language switch), else the browser's preference;
    outside a request (the CLI), the terminal's language (cli_lang)."""
    from .security import is_token_request

    if not _has_request():
        return LOCALES[cli_lang()]

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


def _has_request() -> bool:
    from flask import has_request_context

    return has_request_context()


def cli_lang() -> str:
    """The language of the command line: CREDTRACK_LANGUAGE (zh or en), else
    the terminal's locale (LC_ALL, LC_MESSAGES, LANG) when it is English,
    else Chinese."""
    chosen = os.environ.get("CREDTRACK_LANGUAGE", "").strip().lower()
    if chosen:
        return "en" if chosen.startswith("en") else "zh"
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "en" if value.lower().startswith("en") else "zh"
    return "zh"


def current_lang() -> str:
    """`zh` or `en`: the reader's language (the request's, or the CLI's)."""
    from flask import has_app_context
    from flask_babel import get_locale

    if not has_app_context():
        return cli_lang()
    loc = get_locale()
    return "en" if loc is not None and loc.language == "en" else "zh"


_TRANSLATIONS: dict[str, object] = {}


def translate(message: str, lang: str, **params) -> str:
    """`message` (a msgid) in `lang` whatever the request's language: for
    texts addressed to someone else (a holder's notification) or written in
    a chosen language (an export)."""
    from babel.support import Translations

    if lang != "en":
        if "zh" not in _TRANSLATIONS:
            compile_catalogs()
            _TRANSLATIONS["zh"] = Translations.load(str(TRANSLATIONS), [LOCALES["zh"]])
        message = _TRANSLATIONS["zh"].gettext(message)
    return message % params if params else message


def init_app(app) -> None:
    compile_catalogs()
    Babel(app, locale_selector=select_locale,
          default_translation_directories="translations")

    from .vocabulary import JINJA_GLOBALS

    app.jinja_env.globals.update(JINJA_GLOBALS)
    app.jinja_env.filters.update(field_label=JINJA_GLOBALS["field_label"],
                                 route_label=JINJA_GLOBALS["route_label"])

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

    method_map = [("src/**.py", "python"), ("src/credential_track/templates/**.html", "jinja2")]
    seen: dict[str, None] = {}
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(root), method_map=method_map, keywords=KEYWORDS,
        options_map={"src/credential_track/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        for m in (message if isinstance(message, tuple) else (message,)):
            if m:
                seen.setdefault(m, None)
    return list(seen)


# Calls whose message argument a person reads: the message must be a gettext
# call (or a variable holding one), never a plain or f-string literal.
MESSAGE_CALLS = {
    "ServiceError": 0, "NotFound": 0, "Forbidden": 0, "Conflict": 0, "flash": 0, "ClickException": 0,
    "BadParameter": 0, "EventFieldError": 1, "ManifestError": 0, "fail": 0, "abort": 1, "echo": 0,
}
# files whose messages are not for the people of the product, or not yet
# translated (with the reason), relative to src/credential_track/
MESSAGE_EXEMPT = {
    "services/backup.py": "backup and restore run by technical support from the shell",
    "cli/forecast.py:show_command": "the forecast's figures for technical support; the forecast pages show them in both languages",
    "cli/forecast.py:backtest_command": "accuracy figures for the documentation (docs/DASHBOARD.md)",
    "cli/security.py:backup_command": "backup and restore run by technical support from the shell",
    "cli/security.py:restore_command": "backup and restore run by technical support from the shell",
}


def _literal_text(node) -> str | None:
    """The text of a str literal or f-string (its constant parts), else None."""
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    if isinstance(node, ast.BinOp):
        left, right = _literal_text(node.left), _literal_text(node.right)
        return (left or "") + (right or "") if left is not None or right is not None else None
    return None


def untranslated_calls(root: Path) -> list[str]:
    """`file:line: text` of every message a person reads that is written as
    a literal in English instead of going through gettext (MESSAGE_CALLS),
    outside the exempt files."""
    import ast
    import re

    words = re.compile(r"[a-z]{2,}")
    key = re.compile(r"[a-z_]+")
    out = []
    base = root / "src" / "credential_track"
    for path in sorted(base.rglob("*.py")):
        rel = path.relative_to(base).as_posix()
        if rel in MESSAGE_EXEMPT or rel.startswith("migrations/"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        exempt_functions = {k.split(":", 1)[1] for k in MESSAGE_EXEMPT if k.startswith(rel + ":")}
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name in exempt_functions:
                fn.body = []
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in MESSAGE_CALLS:
                continue
            index = MESSAGE_CALLS[name]
            if len(node.args) <= index:
                continue
            text = _literal_text(node.args[index])
            if text is not None and words.search(text) and not key.fullmatch(text):
                out.append(f"{rel}:{node.lineno}: {text[:70]}")
    return out
