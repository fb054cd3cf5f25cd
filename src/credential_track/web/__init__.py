"""The web pages: one blueprint per area."""
from flask import Flask, render_template


def register(app: Flask) -> None:
    from . import auth, home, station

    app.register_blueprint(auth.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(station.bp)

    @app.errorhandler(403)
    def _forbidden(_e):
        return render_template("errors/403.html"), 403

    @app.errorhandler(404)
    def _not_found(_e):
        return render_template("errors/404.html"), 404
