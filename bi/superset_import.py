"""Import KCBX's dashboards into Superset and set up who sees what (run in .venv-bi).

    KCBX_BI_ACCOUNTS=<json> .venv-bi/bin/python bi/superset_import.py
    KCBX_BI_ACCOUNTS_FILE=<path> superset-init's python bi/superset_import.py   (docker-compose)

KCBX_BI_ACCOUNTS (JSON, from `kcbx bi`): {"warehouse": {"host", "port", "database",
"query"}, "bureau": {"login", "password", "user", "user_password"}, "townships":
[{"code", "name", "login", "password", "user", "user_password"}, ...]}.

The township template in bi/bundle/ is copied once per township: its own database
connection (logging in as that township's warehouse account, so PostgreSQL's row-level
security decides what it sees), datasets, charts and dashboard, with UUIDs derived from
the township code. Each township has a role that reaches only its own connection and
dashboard (no SQL Lab); the bureau role reaches the bureau connection. Idempotent:
the same UUIDs overwrite the same objects.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

import yaml

BI = Path(__file__).resolve().parent
BUNDLE = BI / "bundle"
NAMESPACE = uuid.UUID("6f1c9a52-6a43-4f57-9d3e-4b8e3c2f0a11")


def _uri(warehouse: dict, login: str) -> str:
    query = f"?{warehouse['query']}" if warehouse.get("query") else ""
    port = f":{warehouse['port']}" if warehouse.get("port") else ""
    return (
        f"postgresql+psycopg2://{login}:XXXXXXXXXX@{warehouse.get('host') or ''}{port}/{warehouse['database']}{query}"
    )


def _remap(value, mapping: dict[str, str]):
    if isinstance(value, dict):
        return {k: _remap(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_remap(v, mapping) for v in value]
    if isinstance(value, str) and value in mapping:
        return mapping[value]
    return value


def contents(accounts: dict) -> tuple[dict[str, str], dict[str, str]]:
    """The bundle as Superset's import expects it (path -> YAML) and the passwords."""
    files = {str(p.relative_to(BUNDLE)): yaml.safe_load(p.read_text(encoding="utf-8")) for p in BUNDLE.rglob("*.yaml")}
    out: dict[str, dict] = {}
    passwords: dict[str, str] = {}
    template = {p: b for p, b in files.items() if p.endswith("kcbx_township.yaml") or "/kcbx_township/" in p
                or p.startswith("charts/township_") or p == "dashboards/township.yaml"}  # fmt: skip
    for path, body in files.items():
        if path in template:
            continue
        out[path] = body
    out["databases/kcbx_bureau.yaml"]["sqlalchemy_uri"] = _uri(accounts["warehouse"], accounts["bureau"]["login"])
    passwords["databases/kcbx_bureau.yaml"] = accounts["bureau"]["password"]
    uuids = {b["uuid"] for b in template.values() if "uuid" in b}
    for town in accounts["townships"]:
        mapping = {u: str(uuid.uuid5(NAMESPACE, f"{town['code']}:{u}")) for u in uuids}
        for path, body in template.items():
            copy = _remap(body, mapping)
            if path.startswith("databases/"):
                copy["database_name"] = f"KCBX 乡镇 {town['name']}（{town['code']}）"
                copy["sqlalchemy_uri"] = _uri(accounts["warehouse"], town["login"])
                passwords[f"databases/kcbx_town_{town['code']}.yaml"] = town["password"]
                out[f"databases/kcbx_town_{town['code']}.yaml"] = copy
            elif path.startswith("dashboards/"):
                copy["dashboard_title"] = f"{body['dashboard_title']} — {town['name']}"
                copy["slug"] = f"kcbx-township-{town['code']}"
                copy["position"]["HEADER_ID"]["meta"]["text"] = copy["dashboard_title"]
                out[f"dashboards/township_{town['code']}.yaml"] = copy
            else:
                if path.startswith("datasets/"):
                    # dataset names are unique across connections in Superset's metadata
                    copy["table_name"] = f"{body['table_name']}_{town['code']}"
                folder, name = path.rsplit("/", 1)
                folder = folder.replace("kcbx_township", f"kcbx_town_{town['code']}")
                out[f"{folder}/{town['code']}_{name}"] = copy
    return {p: yaml.safe_dump(b, allow_unicode=True) for p, b in out.items()}, passwords


def _role(sm, name: str, database_name: str, dashboards: list) -> None:
    from superset import db
    from superset.connectors.sqla.models import SqlaTable
    from superset.models.core import Database

    role = sm.find_role(name) or sm.add_role(name)
    database = db.session.query(Database).filter_by(database_name=database_name).one()
    wanted = [sm.find_permission_view_menu("database_access", database.perm)]
    for table in db.session.query(SqlaTable).filter_by(database_id=database.id):
        wanted.append(sm.add_permission_view_menu("datasource_access", table.perm))
    role.permissions = [pv for pv in wanted if pv is not None]
    for dashboard in dashboards:
        dashboard.roles = [role]
    db.session.commit()


def _user(sm, username: str, password: str, roles: list[str]) -> None:
    from superset import db

    found = [sm.find_role(r) for r in roles]
    user = sm.find_user(username=username)
    if user is None:
        sm.add_user(username, username, "KCBX", f"{username}@kcbx.local", found, password=password)
    else:
        user.roles = found
        sm.reset_password(user.id, password)
    db.session.commit()


def main() -> int:
    given = os.environ.get("KCBX_BI_ACCOUNTS_FILE")
    accounts = json.loads(Path(given).read_text() if given else os.environ["KCBX_BI_ACCOUNTS"])
    from superset.app import create_app

    app = create_app()
    with app.app_context(), app.test_request_context():
        from flask import g
        from superset import db, security_manager
        from superset.commands.importers.v1.assets import ImportAssetsCommand
        from superset.models.dashboard import Dashboard

        g.user = security_manager.find_user(username="admin")  # the imported objects' owner
        files, passwords = contents(accounts)
        ImportAssetsCommand(files, passwords=passwords).run()
        bureau_db = "KCBX 县教育局（全县）"
        county = db.session.query(Dashboard).filter_by(slug="kcbx-county").one()
        _role(security_manager, "KCBX 县教育局", bureau_db, [county])
        _user(
            security_manager,
            accounts["bureau"]["user"],
            accounts["bureau"]["user_password"],
            ["Gamma", "KCBX 县教育局"],
        )
        for town in accounts["townships"]:
            role = f"KCBX 乡镇 {town['code']}"
            board = db.session.query(Dashboard).filter_by(slug=f"kcbx-township-{town['code']}").one()
            _role(security_manager, role, f"KCBX 乡镇 {town['name']}（{town['code']}）", [board])
            _user(security_manager, town["user"], town["user_password"], ["Gamma", role])
        print(f"imported {len(files)} files; {1 + len(accounts['townships'])} roles and users", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
