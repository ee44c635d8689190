"""The feed catalogue (feeds.yml) as typed objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

CATALOGUE = Path(__file__).with_name("feeds.yml")


@dataclass(frozen=True)
class Column:
    name: str
    col: str
    required: bool = False
    type: str = "text"
    aliases: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    length: int | None = None


@dataclass(frozen=True)
class Feed:
    name: str
    label: str
    provider: str
    columns: tuple[Column, ...]
    schedule: str = "base"  # base: due by the term's census date; continuous: all term
    identity: str | None = None
    partition_by_term: bool = False
    birth: str | None = None
    sex: str | None = None
    header_index: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    @property
    def raw_columns(self) -> list[str]:
        return [c.col for c in self.columns]


def _feed(name: str, spec: dict) -> Feed:
    columns = tuple(
        Column(
            name=c["name"],
            col=c["col"],
            required=c.get("required", False),
            type=c.get("type", "text"),
            aliases=tuple(c.get("aliases", ())),
            codes=tuple(c.get("codes", ())),
            length=c.get("length"),
        )
        for c in spec["columns"]
    )
    index: dict[str, Column] = {}
    for column in columns:
        for header in (column.name, *column.aliases, column.col):
            index[header] = column
    return Feed(
        name=name,
        label=spec["label"],
        provider=spec["provider"],
        columns=columns,
        schedule=spec["schedule"],
        identity=spec.get("identity"),
        partition_by_term=spec.get("partition_by_term", False),
        birth=spec.get("birth"),
        sex=spec.get("sex"),
        header_index=index,
    )


@cache
def catalogue() -> dict[str, Feed]:
    spec = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    return {name: _feed(name, body) for name, body in spec.items()}


def feed(name: str) -> Feed:
    return catalogue()[name]
