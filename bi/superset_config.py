"""Superset's configuration for KCBX (SUPERSET_CONFIG_PATH points here; `make bi`).

Every secret comes from the environment, which `kcbx bi` fills from owner-only files it
generates under KCBX_HOME/bi/; nothing has a default.
"""

import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = os.environ["KCBX_BI_METADATA_URL"]
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
SESSION_COOKIE_SAMESITE = "Lax"
TALISMAN_ENABLED = False  # served on 127.0.0.1 behind the county's TLS proxy
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}  # answers always come from the warehouse
DATA_CACHE_CONFIG = CACHE_CONFIG
SUPERSET_WEBSERVER_TIMEOUT = 120
SQLLAB_CTAS_NO_LIMIT = False
PREVENT_UNSAFE_DB_CONNECTIONS = False  # the warehouse may sit on a local socket
