"""Shared fixtures: a synthetic county, and real PostgreSQL warehouses to run it on."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KCBX = str(Path(sys.executable).with_name("kcbx"))
PG15 = Path("/usr/lib/postgresql/15/bin")
TEST_PII_KEY = "kcbx-test-key-not-for-production"
TERM = "2025-2026-1"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Warehouse:
    name: str
    env: dict[str, str]
    home: Path

    def kcbx(self, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [KCBX, *args],
            env=os.environ | self.env | (extra_env or {}),
            capture_output=True,
            text=True,
            timeout=900,
        )

    def run_term(self, landing: Path, term: str) -> subprocess.CompletedProcess:
        """`kcbx run` of one term, which must succeed."""
        completed = self.kcbx("run", "--landing", str(landing), "--term", term)
        assert completed.returncode == 0, completed.stderr[-3000:]
        return completed

    def url(self) -> str:
        out = self.kcbx("db", "url", "--show-password")
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()


def embedded_warehouse(tmp_path_factory, name: str) -> Warehouse:
    """A fresh embedded warehouse of its own, for tests that need one beside `warehouse`."""
    home = tmp_path_factory.mktemp(f"kcbx-home-{name}")
    env = {
        "KCBX_HOME": str(home),
        "KCBX_REPORTS_DIR": str(home / "reports"),
        "KCBX_PII_KEY": TEST_PII_KEY,
        "KCBX_DATABASE_URL": "",
    }
    return Warehouse(name, env, home)


@pytest.fixture(scope="session")
def county(tmp_path_factory) -> Path:
    """A small synthetic county, in every input form SPEC §2 allows, with expected.json."""
    from kcbx.synth.writer import synthesize

    out = tmp_path_factory.mktemp("landing")
    synthesize(out, children=900, seed=424242, term=TERM, messy=True)
    return out


def synth_region(root: Path, counties: dict[str, str], children: int, extra=lambda code: "") -> list[str]:
    """Distinct synthetic counties (code -> name) of 许昌市 into root/landing/<code6>, and the
    lines of a region.yml naming them (`extra(code)` appends a county's own keys)."""
    from kcbx.synth.place import Place
    from kcbx.synth.writer import synthesize

    lines = ['region: {code: "411000000000", name: 许昌市}', "counties:"]
    for seed, (code, name) in enumerate(counties.items(), 1):
        landing = root / "landing" / code[:6]
        synthesize(landing, children=children, seed=seed, term=TERM, place=Place.of_county(code, name, "411000000000"))
        lines.append(f'  - {{code: "{code}", name: {name}, landing: {landing}{extra(code)}}}')
    return lines


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; CI runs as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module", params=["embedded", "debian-pg15"])
def warehouse(request, tmp_path_factory):
    home = tmp_path_factory.mktemp(f"kcbx-home-{request.param}")
    env = {
        "KCBX_HOME": str(home),
        "KCBX_REPORTS_DIR": str(home / "reports"),
        "KCBX_PII_KEY": TEST_PII_KEY,
    }
    if request.param == "embedded":
        env.pop("KCBX_DATABASE_URL", None)
        wh = Warehouse("embedded", env | {"KCBX_DATABASE_URL": ""}, home)
        yield wh
        wh.kcbx("db", "stop")
        return
    if not (PG15 / "initdb").exists():
        pytest.skip(f"missing machine feature: Debian PostgreSQL 15 binaries in {PG15} (.ci/run installs them)")
    cluster = Path(tempfile.mkdtemp(prefix="kcbx-pg15-"))
    cluster.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(cluster, "postgres", "postgres")
    data, port = cluster / "data", _free_port()
    subprocess.run(
        _as_postgres_user(
            [str(PG15 / "initdb"), "-D", str(data), "-U", "kcbx", "--auth=trust", "-E", "UTF8", "--no-locale"]
        ),
        check=True,
        capture_output=True,
    )
    subprocess.run(
        _as_postgres_user(
            [
                str(PG15 / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(cluster / "log"),
                "-w",
                "-o",
                f"-p {port} -k {cluster} -c listen_addresses=127.0.0.1",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        import psycopg

        with psycopg.connect(f"postgresql://kcbx@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute("create database kcbx")
        yield Warehouse("debian-pg15", env | {"KCBX_DATABASE_URL": f"postgresql://kcbx@127.0.0.1:{port}/kcbx"}, home)
    finally:
        subprocess.run(
            _as_postgres_user([str(PG15 / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]), capture_output=True
        )
        shutil.rmtree(cluster, ignore_errors=True)
