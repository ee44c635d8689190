"""Configuration, read from the environment in one place.

Every variable the code reads is listed in ENVIRONMENT so that docker-compose.yml and
the README can be checked against it by a test.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

ENVIRONMENT = {
    "KCBX_DATABASE_URL": "warehouse PostgreSQL URL; unset = embedded server under KCBX_HOME",
    "KCBX_HOME": "data folder: embedded server, Airflow metadata, generated GX projects, PII key (default .kcbx/)",
    "KCBX_PII_KEY": "secret for child_key = HMAC-SHA256(identity number); generated into KCBX_HOME if unset",
    "KCBX_REPORTS_DIR": "where term reports, Data Docs and ledgers are written (default reports/)",
    "KCBX_DROPOUT_DAYS": "unexcused school days in a row that make a suspected dropout (default 3)",
}


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    home: Path
    reports_dir: Path
    dropout_days: int

    @property
    def dbt_project_dir(self) -> Path:
        return PROJECT_ROOT / "dbt_project"

    @property
    def dags_dir(self) -> Path:
        return PROJECT_ROOT / "dags"

    def pii_key(self) -> str:
        """The HMAC secret; a generated one is kept so child keys stay stable between runs."""
        key = os.environ.get("KCBX_PII_KEY")
        if key:
            return key
        path = self.home / "pii_key"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip()


def load() -> Settings:
    home = Path(os.environ.get("KCBX_HOME") or PROJECT_ROOT / ".kcbx").resolve()
    return Settings(
        database_url=os.environ.get("KCBX_DATABASE_URL") or None,
        home=home,
        reports_dir=Path(os.environ.get("KCBX_REPORTS_DIR") or PROJECT_ROOT / "reports").resolve(),
        dropout_days=int(os.environ.get("KCBX_DROPOUT_DAYS") or 3),
    )
