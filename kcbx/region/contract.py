"""The county's published contract (SPEC §7), read from its one source of truth,
dbt_project/models/publish/_publish.yml: the tables, their columns and types, and the
version. The publish task copies these tables; the hub derives its own from them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from kcbx.settings import PROJECT_ROOT

CONTRACT_FILE = PROJECT_ROOT / "dbt_project" / "models" / "publish" / "_publish.yml"


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    description: str


@dataclass(frozen=True)
class Table:
    model: str  # pub_indicators
    version: int
    columns: tuple[Column, ...]
    description: str

    @property
    def relation(self) -> str:
        """The table's name in publish_build and publish: dbt's versioned name."""
        return f"{self.model}_v{self.version}"

    @property
    def hub_name(self) -> str:
        """The hub's table: region.indicators for pub_indicators."""
        return self.model.removeprefix("pub_")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@cache
def tables() -> tuple[Table, ...]:
    import yaml

    doc = yaml.safe_load(CONTRACT_FILE.read_text(encoding="utf-8"))
    found = []
    for model in doc["models"]:
        columns = tuple(Column(c["name"], c["data_type"], c.get("description", "")) for c in model["columns"])
        found.append(Table(model["name"], int(model["latest_version"]), columns, model.get("description", "")))
    return tuple(found)


def version() -> int:
    """The contract's version: the highest of its tables' (all are v1 today)."""
    return max(t.version for t in tables())
