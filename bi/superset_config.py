"""Superset's configuration for KCBX (SUPERSET_CONFIG_PATH points here; `make bi`).

Every secret comes from the environment, which `kcbx bi` fills from owner-only files it
generates under KCBX_HOME/bi/; nothing has a default.

KCBX_BI_BEHIND_TLS says Superset is served behind a TLS proxy (docker-compose: on unless
set to false). Then the session cookie is Secure, HSTS is sent and the proxy's
X-Forwarded-* headers are trusted (ENABLE_PROXY_FIX). Unset or false — `make bi` and the
tests, plain http on 127.0.0.1 — the cookie cannot be Secure (a browser would drop it and
nobody could log in), so it is not; the content security policy, X-Frame-Options and the
other headers are sent either way.
"""

import base64
import hashlib
import os
import re
from pathlib import Path

from flask import Blueprint, Response, redirect

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = os.environ["KCBX_BI_METADATA_URL"]
BEHIND_TLS = os.environ.get("KCBX_BI_BEHIND_TLS", "").strip().lower() in ("1", "true", "yes", "on")
# Dashboards visible only to the roles they list (a township's to its own role).
FEATURE_FLAGS = {"DASHBOARD_RBAC": True, "ENABLE_TEMPLATE_PROCESSING": False}
# Charts in Chinese; numbers as the county writes them.
BABEL_DEFAULT_LOCALE = "zh"
LANGUAGES = {"zh": {"flag": "cn", "name": "简体中文"}, "en": {"flag": "us", "name": "English"}}
# No one uploads files into the warehouse through the BI tool.
CSV_EXTENSIONS: set = set()
EXCEL_EXTENSIONS: set = set()
COLUMNAR_EXTENSIONS: set = set()
ALLOWED_EXTENSIONS: set = set()
# Public role has nothing; anonymous visitors see the login page only.
PUBLIC_ROLE_LIKE = None
AUTH_ROLE_PUBLIC = "Public"
FAB_ADD_SECURITY_API = True

# Session cookie: never readable by scripts, not sent on cross-site requests, and only
# over TLS when there is TLS (above).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = BEHIND_TLS
# The TLS proxy's X-Forwarded-Proto/-For/-Host: trusted only when there is such a proxy.
ENABLE_PROXY_FIX = BEHIND_TLS
PROXY_FIX_CONFIG = {"x_for": 1, "x_proto": 1, "x_host": 1, "x_port": 1, "x_prefix": 1}

# Talisman: Superset 6.1's default policy (superset/config.py TALISMAN_CONFIG, the one its
# UI is built for: scripts by nonce, inline styles) with every third-party host removed —
# no map tiles, web fonts or telemetry pixel (apachesuperset.gateway.scarf.sh, which the
# navigation bar would otherwise load and tell the page's address): the dashboards use
# none, and a county's network may not reach them. Frames from this origin only.
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "frame_options": "SAMEORIGIN",
    # The proxy redirects http to https; Superset itself also answers the health check on http.
    "force_https": False,
    "strict_transport_security": BEHIND_TLS,
    "session_cookie_secure": BEHIND_TLS,
    "session_cookie_http_only": True,
    "session_cookie_samesite": "Lax",
}
TALISMAN_DEV_CONFIG = TALISMAN_CONFIG  # never relax the policy when debugging is switched on

CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}  # answers always come from the warehouse
DATA_CACHE_CONFIG = CACHE_CONFIG
SUPERSET_WEBSERVER_TIMEOUT = 120
SQLLAB_CTAS_NO_LIMIT = False

# Connections: no SQLite or other local-file engines (they would read this server's
# files, Superset's own metadata among them) ...
PREVENT_UNSAFE_DB_CONNECTIONS = True
# ... and a connection logs in as a BI account only (kcbx_bi_bureau, kcbx_town_<code>:
# what `kcbx bi` creates and row-level security binds; on a region's hub
# kcbx_region_reader and kcbx_county_<code6>, what `kcbx region bi` creates). The embedded warehouse trusts
# every local login, so a connection an admin added as `postgres` (or with no login) would
# be a superuser's. Checked on the final URL and connect arguments every time Superset
# opens a connection, not only when one is saved.
# KCBX_BI_KIND (set by kcbx/orchestration/bi.py): a county's Superset may not log in to a
# hub, nor a region's to a county's warehouse, even where both servers trust local logins.
BI_LOGINS = {
    "county": re.compile(r"kcbx_bi_bureau|kcbx_town_[0-9A-Za-z_]+"),
    "region": re.compile(r"kcbx_region_reader|kcbx_county_[0-9]{6}"),
}
BI_LOGIN = BI_LOGINS[os.environ.get("KCBX_BI_KIND", "county")]


def DB_CONNECTION_MUTATOR(uri, params, username, security_manager, source):  # Superset calls it so
    connect_args = params.get("connect_args") or {}
    query = {k: v if isinstance(v, str) else ",".join(v) for k, v in uri.query.items()}
    logins = {uri.username, query.get("user"), connect_args.get("user")} - {None}
    indirect = {"dsn", "service", "servicefile"} & (set(query) | set(connect_args))
    if uri.username and not indirect and all(BI_LOGIN.fullmatch(str(login)) for login in logins):
        return uri, params
    message = (
        "连接只能使用 KCBX BI 账户登录 / a connection must log in as a KCBX BI account "
        "(a county's: kcbx_bi_bureau, kcbx_town_<code>; a region's: kcbx_region_reader, kcbx_county_<code6>), "
        f"not {', '.join(map(str, logins)) or 'the server default'}"
    )
    try:
        from superset.errors import ErrorLevel, SupersetError, SupersetErrorType
        from superset.exceptions import SupersetSecurityException
    except ImportError:  # read outside Superset (tests/unit)
        raise ValueError(message) from None
    error_type = SupersetErrorType.DATABASE_SECURITY_ACCESS_ERROR
    raise SupersetSecurityException(SupersetError(error_type=error_type, message=message, level=ErrorLevel.ERROR))


# The data dictionary (kcbx/outputs/dictionary.py; `kcbx bi start` copies it into
# Superset's home), linked from the county's dashboards: dbt's documentation as one static
# page, for logged-in users only. Its policy is its own: dbt's single-page app runs from
# inline scripts, allowed by their hashes (computed from the file served, which changes at
# each import); nothing else is fetched from anywhere.
DICTIONARY = Blueprint("kcbx_dictionary", __name__)
DICTIONARY_ROLES = {"Admin", "KCBX 县教育局"}  # bi/superset_import.py KINDS["county"].main_role
_SCRIPT = re.compile(r"<script[^>]*>(.*?)</script>", re.S | re.I)


@DICTIONARY.route("/kcbx/dictionary/")
def dictionary():
    from flask_login import current_user

    if not current_user.is_authenticated:
        return redirect("/login/?next=/kcbx/dictionary/")
    # the bureau's BI users and administrators (it shows every model's SQL, the row-level
    # security's among them): not a township's account, whose dashboard does not link it
    if not {role.name for role in current_user.roles} & DICTIONARY_ROLES:
        return Response("数据字典仅供县教育局账户查看。", 403, mimetype="text/plain")
    path = Path(os.environ["SUPERSET_HOME"]) / "dictionary.html"
    if not path.exists():
        return Response("数据字典尚未生成：运行 kcbx bi start 或 make docs。", 404, mimetype="text/plain")
    page = path.read_text(encoding="utf-8")
    digests = {hashlib.sha256(script.encode()).digest() for script in _SCRIPT.findall(page) if script}
    hashes = " ".join(f"'sha256-{base64.b64encode(d).decode()}'" for d in sorted(digests))
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; img-src data:; font-src data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    )
    return response


dictionary.talisman_view_options = {"content_security_policy": False}  # the header above instead
BLUEPRINTS = [DICTIONARY]
