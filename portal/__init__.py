"""Flask application factory (SecureDrop / Flask-tutorial style): configuration, database,
security headers, CSRF, rate limits, and one blueprint per audience."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from flask import Flask, g, request
from flask.wrappers import Request
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix

from intake.reference import Reference, load_reference
from intake.service import IntakeContext
from intake.uploads import EncryptedSpool
from portal import headers
from portal.config import Settings
from portal.db import make_engine, make_sessionmaker
from portal.throttle import limiter
from secure_store import instance
from secure_store.files import FileStore
from secure_store.instance import InstanceSecrets

REPO = Path(__file__).resolve().parent.parent
csrf = CSRFProtect()


@dataclass
class AppState:
    settings: Settings
    secrets: InstanceSecrets
    store: FileStore
    reference: Reference
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def intake(self) -> IntakeContext:
        return IntakeContext(self.secrets, self.store, self.reference)

    @cached_property
    def audit_key(self) -> bytes:
        from audit.chain import derive_audit_key

        return derive_audit_key(self.secrets.mac_key)

    @cached_property
    def index_key(self) -> bytes:
        from secure_store.blind_index import derive_index_key

        return derive_index_key(self.secrets.mac_key)


class PortalRequest(Request):
    """Uploads are encrypted while they are parsed: no plaintext temporary file ever exists."""

    # Werkzeug keeps non-file fields in memory up to this size; report text is far smaller.
    max_form_memory_size = 1024 * 1024

    def _get_file_stream(self, total_content_length: Any, content_type: Any, filename: Any = None, content_length: Any = None) -> Any:  # noqa: D401
        state: AppState = self.app_state  # type: ignore[attr-defined]
        return EncryptedSpool(state.store)

    @property
    def app_state(self) -> AppState:
        from flask import current_app

        return current_app.extensions["aqjb"]


def get_db() -> Session:
    if "db" not in g:
        from flask import current_app

        g.db = current_app.extensions["aqjb"].sessions()
    return g.db


def state() -> AppState:
    from flask import current_app

    return current_app.extensions["aqjb"]


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, template_folder=str(REPO / "templates"), static_folder=str(REPO / "static"))
    app.request_class = PortalRequest
    _configure_logging(app, settings)

    secrets_ = instance.load(settings.data_dir)
    engine = make_engine(settings.database_url)
    app.extensions["aqjb"] = AppState(
        settings=settings,
        secrets=secrets_,
        store=FileStore(settings.data_dir / "store"),
        reference=load_reference(),
        engine=engine,
        sessions=make_sessionmaker(engine),
    )
    app.config.update(
        SECRET_KEY=secrets_.session_secret,
        MAX_CONTENT_LENGTH=10 * 210 * 1024 * 1024,
        SESSION_COOKIE_NAME="aqjb_csrf",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=6 * 3600,  # a reporter may take a long time to write
        WTF_CSRF_SSL_STRICT=False,  # no Referer is ever sent (Referrer-Policy: no-referrer)
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        RATELIMIT_KEY_PREFIX=settings.limiter_prefix,
        RATELIMIT_DEFAULT=settings.limits["ANY_REQUEST"],
        RATELIMIT_HEADERS_ENABLED=False,
        TESTING=settings.testing,
    )
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)  # type: ignore[method-assign]

    csrf.init_app(app)
    limiter.init_app(app)

    from portal import admin, api, audit_views, case_actions, errors, finance, oversight, public, staff, staff_auth  # noqa: F401

    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(staff_auth.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(audit_views.bp)
    app.register_blueprint(finance.bp)
    app.register_blueprint(oversight.bp)
    app.register_blueprint(oversight.public_bp)
    csrf.exempt(api.bp)  # no cookies on the API: PoW and bearer tokens instead
    limiter.request_filter(lambda: request.endpoint == "static")
    errors.register(app)
    from intake.timeline import public_status

    from audit.export import ACTION_LABELS

    app.jinja_env.globals["timeline_label"] = lambda kind: public_status(kind, event=True)
    app.jinja_env.globals["audit_label"] = lambda code: ACTION_LABELS.get(code, code)
    from cases.rewards import workflow as reward_workflow

    app.jinja_env.globals["rewards"] = reward_workflow
    from cases.rewards.claims import DECLARATION

    app.jinja_env.globals["claim_declaration"] = DECLARATION

    app.after_request(headers.apply)
    app.before_request(_housekeeping)

    @app.teardown_appcontext
    def _close_db(_exc: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.close()

    return app


_last_housekeeping = 0.0
_last_escalation = 0.0
ESCALATION_INTERVAL_S = 3600


def _housekeeping() -> None:
    """At most every few minutes per worker: expire spools, PoW records and sessions; hourly,
    flag late cases (``python -m portal escalate`` from cron does the same)."""
    global _last_housekeeping, _last_escalation
    import time

    from intake import housekeeping

    now = time.monotonic()
    if now - _last_housekeeping < housekeeping.INTERVAL_S:
        return
    _last_housekeeping = now
    s = state()
    try:
        with s.sessions() as db:
            housekeeping.run(db, s.store, orphans=False)
        if now - _last_escalation >= ESCALATION_INTERVAL_S:  # cron may run it more often
            _last_escalation = now
            from cases.supervision import escalate
            from models.base import utcnow

            from cases.rewards.claims import forfeit_expired

            with s.sessions() as db:
                escalate(db, utcnow())
                forfeit_expired(db, s.audit_key)
                housekeeping.sweep_orphans(db, s.store)
    except Exception:  # never fail a reporter's request over housekeeping
        logging.getLogger(__name__).warning("housekeeping failed", exc_info=False)


def _configure_logging(app: Flask, settings: Settings) -> None:
    """Application log: events and errors only. Never a client address, user agent or content."""
    log_dir = settings.data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    handler = logging.FileHandler(log_dir / "portal.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    if not any(isinstance(h, logging.FileHandler) and getattr(h, "baseFilename", "") == handler.baseFilename for h in root.handlers):
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # its access log includes addresses
