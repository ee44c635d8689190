"""Provision Metabase for KCBX through its REST API: the admin user, one warehouse
connection per BI account, and the dashboards of bi/cards.yml.

The bureau's dashboard uses the kcbx_metabase account (every township); each township
in KCBX_BI_TOWNSHIPS gets its own connection as kcbx_town_<code> and its own copy of the
township dashboard, so row-level security in the warehouse decides what it shows. Give
each township's Metabase group access to its connection only (Admin > Permissions).
Idempotent: existing connections, cards and dashboards (matched by name) are kept.
Run by the `bi-setup` service in docker-compose.yml.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import yaml

CARDS = Path(__file__).with_name("cards.yml")


class Metabase:
    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self.session: str | None = None

    def call(self, method: str, path: str, body: dict | None = None):
        headers = {"Content-Type": "application/json"}
        if self.session:
            headers["X-Metabase-Session"] = self.session
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = response.read()
        return json.loads(payload) if payload else None

    def wait(self, seconds: int = 300) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if self.call("GET", "/api/health").get("status") == "ok":
                    return
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"Metabase at {self.url} did not become healthy")
            time.sleep(5)

    def login(self, email: str, password: str) -> None:
        token = self.call("GET", "/api/session/properties").get("setup-token")
        if token:  # a fresh Metabase: create the admin
            user = {"email": email, "password": password, "first_name": "KCBX", "last_name": "Admin"}
            result = self.call(
                "POST",
                "/api/setup",
                {"token": token, "user": user, "prefs": {"site_name": "控辍保学", "site_locale": "zh"}},
            )
            self.session = result["id"]
        else:
            self.session = self.call("POST", "/api/session", {"username": email, "password": password})["id"]

    def ensure_database(self, name: str, details: dict) -> int:
        for database in self.call("GET", "/api/database")["data"]:
            if database["name"] == name:
                return database["id"]
        return self.call("POST", "/api/database", {"engine": "postgres", "name": name, "details": details})["id"]

    def ensure_dashboard(self, name: str, description: str, database_id: int, cards: list[dict]) -> int:
        existing = {d["name"]: d["id"] for d in self.call("GET", "/api/dashboard")}
        if name in existing:
            return existing[name]
        dashboard_id = self.call("POST", "/api/dashboard", {"name": name, "description": description})["id"]
        dashcards = []
        for i, card in enumerate(cards):
            card_id = self.call(
                "POST",
                "/api/card",
                {
                    "name": card["name"],
                    "display": card.get("display", "table"),
                    "visualization_settings": {},
                    "dataset_query": {
                        "type": "native",
                        "native": {"query": card["sql"]},
                        "database": database_id,
                    },
                },
            )["id"]
            dashcards.append({"id": -(i + 1), "card_id": card_id, "row": 8 * i, "col": 0, "size_x": 24, "size_y": 8})
        self.call("PUT", f"/api/dashboard/{dashboard_id}", {"dashcards": dashcards})
        return dashboard_id


def account_password(account: str) -> str:
    """Each BI account's own password, from its secret file (docker-compose mounts them)."""
    return (Path(os.environ["KCBX_BI_SECRETS_DIR"]) / account).read_text().strip()


def warehouse_details(user: str, password: str) -> dict:
    url = urlparse(os.environ["KCBX_DATABASE_URL"])
    return {
        "host": url.hostname,
        "port": url.port or 5432,
        "dbname": url.path.lstrip("/"),
        "user": user,
        "password": password,
        "ssl": False,
    }


def main() -> int:
    spec = yaml.safe_load(CARDS.read_text(encoding="utf-8"))
    metabase = Metabase(os.environ.get("METABASE_URL", "http://localhost:3000"))
    metabase.wait()
    metabase.login(os.environ["METABASE_ADMIN_EMAIL"], os.environ["METABASE_ADMIN_PASSWORD"])
    bureau_db = metabase.ensure_database(
        "控辍保学数据仓库（县教育局）", warehouse_details("kcbx_metabase", account_password("kcbx_metabase"))
    )
    bureau = spec["dashboards"]["bureau"]
    cards = [c for c in spec["cards"] if "bureau" in c["dashboards"]]
    print("dashboard", metabase.ensure_dashboard(bureau["name"], bureau["description"], bureau_db, cards))
    township = spec["dashboards"]["township"]
    cards = [c for c in spec["cards"] if "township" in c["dashboards"]]
    for code in filter(None, os.environ.get("KCBX_BI_TOWNSHIPS", "").split(",")):
        database_id = metabase.ensure_database(
            f"控辍保学数据仓库（乡镇 {code}）",
            warehouse_details(f"kcbx_town_{code}", account_password(f"kcbx_town_{code}")),
        )
        name = f"{township['name']}（{code}）"
        print("dashboard", metabase.ensure_dashboard(name, township["description"], database_id, cards))
    return 0


if __name__ == "__main__":
    sys.exit(main())
