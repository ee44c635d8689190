"""Airflow's REST API (v2) as an operator's script uses it: a token from the FAB auth
manager, then JSON calls. For tests and benchmarks that drive the real services."""

from __future__ import annotations

import json
import urllib.request


class AirflowApi:
    def __init__(self, base: str, password: str, username: str = "admin") -> None:
        self.base = base
        request = urllib.request.Request(
            f"{base}/auth/token",
            data=json.dumps({"username": username, "password": password}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            self.token = json.load(answer)["access_token"]

    def call(self, path: str, body: dict | None = None, method: str | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.base}/api/v2/{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            method=method or ("POST" if body is not None else "GET"),
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.load(answer)
