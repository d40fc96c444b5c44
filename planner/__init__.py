"""planner: takes a company through the rollout of a CRM system, phase by phase."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application. ``config`` overrides settings read from the environment."""
    from planner import config as settings
    from planner.core import i18n, jobs, web
    from planner.core.accounts.models import User
    from planner.core.accounts.service import configure_hashing
    from planner.core.db import configure_engine
    from planner.extensions import babel, csrf, db, limiter, login_manager, migrate

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_relative_config=True,
    )
    app.config.update(settings.load(app.instance_path, config))
    app.url_map.converters["int"] = web.IdConverter  # before any route is added
    configure_hashing(app.config["PASSWORD_HASH_PROFILE"])
    app.testing = app.config["PLANNER_ENV"] == "test"
    app.debug = app.config["PLANNER_ENV"] == "development" and app.debug
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:  # the client's address, scheme and host as the proxy saw
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.locale, timezone_selector=i18n.timezone)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        # "id.epoch" (User.get_id): a session of an earlier epoch was ended, whatever its cookie.
        user_id, _, epoch = session_id.partition(".")
        if not (user_id.isdigit() and epoch.isdigit()) or int(user_id) > 2**31 - 1:
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or user.session_epoch != int(epoch):
            return None
        return user

    from planner.artifacts import api as artifacts_api
    from planner.artifacts import views as artifacts_views
    from planner.core import openapi
    from planner.core.accounts import api as accounts_api
    from planner.core.accounts import views as accounts_views
    from planner.design import api as design_api
    from planner.design import report_views as _design_report_views  # noqa: F401 (routes on its bps)
    from planner.design import views as design_views
    from planner.design import waiting as _design_waiting  # noqa: F401 (a waiting list)
    from planner.goals import api as goals_api
    from planner.goals import views as goals_views
    from planner.migration import api as migration_api
    from planner.migration import pilot_views as _migration_pilots  # noqa: F401 (routes on its bps)
    from planner.migration import recipe_views as _migration_recipes  # noqa: F401 (routes on its bps)
    from planner.migration import report_views as _migration_report  # noqa: F401 (routes on its bps)
    from planner.migration import views as migration_views
    from planner.projects import api as projects_api
    from planner.projects import views as projects_views
    from planner.requirements import api as requirements_api
    from planner.requirements import (  # noqa: F401 (routes on its bps)
        intake_api,
        intake_views,
        report_views,  # noqa: F401 (routes on its bps)
    )
    from planner.requirements import views as requirements_views
    from planner.requirements import waiting as _requirements_waiting  # noqa: F401 (a waiting list)
    from planner.spec import api as spec_api
    from planner.spec import report_views as _spec_report_views  # noqa: F401 (routes on its bps)
    from planner.spec import verify_views as spec_verify
    from planner.spec import views as spec_views
    from planner.spec import waiting as _spec_waiting  # noqa: F401 (a waiting list)
    from planner.vendors import api as vendors_api
    from planner.vendors import decision_views, waiting  # noqa: F401 (routes on vendors' bp; a waiting list)
    from planner.vendors import views as vendors_views

    for bp in (
        accounts_views.bp,
        projects_views.bp,
        goals_views.bp,
        requirements_views.bp,
        design_views.bp,
        artifacts_views.bp,
        vendors_views.bp,
        spec_views.bp,
        spec_verify.bp,
        migration_views.bp,
        openapi.bp,
        accounts_api.bp,
        projects_api.bp,
        goals_api.bp,
        requirements_api.bp,
        design_api.bp,
        artifacts_api.bp,
        vendors_api.bp,
        spec_api.bp,
        migration_api.bp,
    ):
        app.register_blueprint(bp)

    jobs.configure(app)
    web.register(app)
    from planner import cli

    cli.register(app)
    return app
