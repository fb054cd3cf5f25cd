"""Credential Track: expo credentials from organizer handover to holder."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from . import config, settings, unit_of_work

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = PACKAGE_DIR.parents[1]


def _instance_path() -> str | None:
    import os

    if os.environ.get("CREDTRACK_INSTANCE_PATH"):
        return os.environ["CREDTRACK_INSTANCE_PATH"]
    if (CHECKOUT_DIR / "pyproject.toml").exists():
        return str(CHECKOUT_DIR / "instance")
    return None


def create_app(test_config: dict | None = None) -> Flask:
    """The application factory."""
    app = Flask(
        __name__,
        instance_path=_instance_path(),
        instance_relative_config=True,
        template_folder="templates",  # inside the package: the wheel carries them
    )
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(config.defaults(instance))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.update(config.from_environment(instance))
    else:
        app.config.update(test_config)
        app.config.setdefault("SECRET_KEY", "test")
    settings.refresh(app)

    unit_of_work.init_app(app)
    from . import clock

    clock.init_app(app)

    from . import i18n, security
    from .api import bp as api_bp
    from .web import register as register_web

    i18n.init_app(app)
    security.init_app(app)
    app.register_blueprint(api_bp)
    register_web(app)
    unit_of_work.wrap_views(app)

    from . import tasks

    tasks.configure(app)

    from .cli import register_commands

    register_commands(app)
    return app
