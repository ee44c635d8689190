"""Import KCBX's dashboards into Superset and set up who sees what (run in .venv-bi).

    KCBX_BI_ACCOUNTS=<json> .venv-bi/bin/python bi/superset_import.py
    KCBX_BI_ACCOUNTS_FILE=<path> superset-init's python bi/superset_import.py   (docker-compose)

KCBX_BI_ACCOUNTS (JSON, from `kcbx bi` or `kcbx region bi`): {"kind": "county" or
"region", "warehouse": {"host", "port", "database", "query"}, "main": {"login",
"password", "user", "user_password"}, "members": [{"code", "name", "login", "password",
"user", "user_password"}, ...]}. A county's main account is the bureau's and its members
are the townships; a region's main account reads every county of the hub and its members
are the counties.

The member template in bi/bundle/ (the township's, or the region's county) is copied once
per member: its own database connection (logging in as that member's own account, so
PostgreSQL's row-level security decides what it sees), datasets, charts and dashboard,
with UUIDs derived from the member's code. Each member has a role that reaches only its
own connection and dashboard (no SQL Lab); the main role reaches the main connection.
Idempotent: the same UUIDs overwrite the same objects.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

BI = Path(__file__).resolve().parent
BUNDLE = BI / "bundle"
NAMESPACE = uuid.UUID("6f1c9a52-6a43-4f57-9d3e-4b8e3c2f0a11")


@dataclass(frozen=True)
class Kind:
    """Which connections of the bundle a Superset imports, and what its roles are called."""

    main: str  # the connection every main-account chart reads (bi/build_bundle.py CONNECTIONS)
    member: str  # the template connection copied once per member
    main_role: str
    member_role: str  # .format(code=, name=)
    member_database: str
    member_slug: str


KINDS = {
    "county": Kind("bureau", "township", "KCBX 县教育局", "KCBX 乡镇 {code}", "KCBX 乡镇 {name}（{code}）",
                   "kcbx-township-{code}"),
    "region": Kind("region", "region_county", "KCBX 区域", "KCBX 县 {code}", "KCBX 县 {name}（{code}）",
                   "kcbx-region-county-{code}"),
}  # fmt: skip


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


def _connection_files(files: dict[str, dict], connection: str) -> dict[str, dict]:
    """The bundle's files of one connection: its database, datasets, charts and dashboards."""
    return {
        path: body for path, body in files.items()
        if path == f"databases/kcbx_{connection}.yaml" or path.startswith(f"datasets/kcbx_{connection}/")
        or path.startswith((f"charts/{connection}__", f"dashboards/{connection}__"))
    }  # fmt: skip


def contents(accounts: dict) -> tuple[dict[str, str], dict[str, str]]:
    """The bundle as Superset's import expects it (path -> YAML) and the passwords."""
    kind = KINDS[accounts.get("kind", "county")]
    files = {str(p.relative_to(BUNDLE)): yaml.safe_load(p.read_text(encoding="utf-8")) for p in BUNDLE.rglob("*.yaml")}
    out: dict[str, dict] = {"metadata.yaml": files["metadata.yaml"]} | _connection_files(files, kind.main)
    passwords: dict[str, str] = {}
    main_database = f"databases/kcbx_{kind.main}.yaml"
    out[main_database]["sqlalchemy_uri"] = _uri(accounts["warehouse"], accounts["main"]["login"])
    passwords[main_database] = accounts["main"]["password"]
    template = _connection_files(files, kind.member)
    uuids = {b["uuid"] for b in template.values() if "uuid" in b}
    for member in accounts["members"]:
        code = member["code"]
        mapping = {u: str(uuid.uuid5(NAMESPACE, f"{code}:{u}")) for u in uuids}
        for path, body in template.items():
            copy = _remap(body, mapping)
            if path.startswith("databases/"):
                copy["database_name"] = kind.member_database.format(code=code, name=member["name"])
                copy["sqlalchemy_uri"] = _uri(accounts["warehouse"], member["login"])
                passwords[f"databases/kcbx_{kind.member}_{code}.yaml"] = member["password"]
                out[f"databases/kcbx_{kind.member}_{code}.yaml"] = copy
            elif path.startswith("dashboards/"):
                copy["dashboard_title"] = f"{body['dashboard_title']} — {member['name']}"
                copy["slug"] = kind.member_slug.format(code=code)
                copy["position"]["HEADER_ID"]["meta"]["text"] = copy["dashboard_title"]
                out[f"dashboards/{kind.member}_{code}.yaml"] = copy
            else:
                if path.startswith("datasets/"):
                    # dataset names are unique across connections in Superset's metadata
                    copy["table_name"] = f"{body['table_name']}_{code}"
                folder, name = path.rsplit("/", 1)
                folder = folder.replace(f"kcbx_{kind.member}", f"kcbx_{kind.member}_{code}")
                out[f"{folder}/{code}_{name}"] = copy
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


def _write_filter_scopes(dashboards: list) -> None:
    """Each native filter's chart scope, from the charts' real ids. The bundle names the charts a
    filter leaves out (`scope.excluded`, mapped to real ids by the import); Superset's
    dashboard page applies a filter only to the charts listed in `chartsInScope`, which it
    otherwise writes only when someone saves the dashboard in its editor."""
    from superset import db

    for dashboard in dashboards:
        metadata = json.loads(dashboard.json_metadata or "{}")
        position = json.loads(dashboard.position_json or "{}")
        charts = [item["meta"]["chartId"] for item in position.values()
                  if isinstance(item, dict) and item.get("type") == "CHART"]  # fmt: skip
        for native in metadata.get("native_filter_configuration", []):
            excluded = set(native.get("scope", {}).get("excluded", []))
            native["chartsInScope"] = [c for c in charts if c not in excluded]
        dashboard.json_metadata = json.dumps(metadata)
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
    kind = KINDS[accounts.get("kind", "county")]
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
        main_database = yaml.safe_load(files[f"databases/kcbx_{kind.main}.yaml"])["database_name"]
        boards = [yaml.safe_load(text)["slug"] for path, text in files.items()
                  if path.startswith(f"dashboards/{kind.main}__")]  # fmt: skip
        members = [kind.member_slug.format(code=m["code"]) for m in accounts["members"]]
        imported = {d.slug: d for d in db.session.query(Dashboard).filter(Dashboard.slug.in_(boards + members))}
        _write_filter_scopes(list(imported.values()))
        _role(security_manager, kind.main_role, main_database, [imported[slug] for slug in boards if slug in imported])
        main = accounts["main"]
        _user(security_manager, main["user"], main["user_password"], ["Gamma", kind.main_role])
        for member in accounts["members"]:
            role = kind.member_role.format(code=member["code"])
            board = imported[kind.member_slug.format(code=member["code"])]
            _role(security_manager, role, kind.member_database.format(code=member["code"], name=member["name"]),
                  [board])  # fmt: skip
            _user(security_manager, member["user"], member["user_password"], ["Gamma", role])
        print(f"imported {len(files)} files; {1 + len(accounts['members'])} roles and users", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
