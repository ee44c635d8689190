"""region.yml (SPEC §7): the region, its hub and its counties.

    region: {code: "411000000000", name: 许昌市}
    hub: {url_env: KCBX_HUB_DATABASE_URL}
    counties:
      - {code: "411082000000", name: 长葛市, landing: /data/411082, url_env: KCBX_DB_411082}

A county or hub without `url_env` (or whose variable is unset) gets its own embedded
PostgreSQL under the region's home: PostgreSQL's logins are server-wide, so counties that
shared one server would share their stage logins and BI accounts (SPEC §7).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from kcbx.region.codes import CodeError, check_county_code, check_region_code

_CODE = re.compile(r"^\d{12}$")
COUNTY_KEYS = ("code", "name", "landing", "url_env", "pii_key_env", "publish_url_env")
_ENV = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class RegionConfigError(ValueError):
    """region.yml cannot be used; the message names the entry and what is wrong."""


@dataclass(frozen=True)
class County:
    code: str  # 12-digit 区划代码
    name: str
    landing: Path
    url_env: str | None = None  # the county's warehouse (its set-up login), as for `kcbx run`
    pii_key_env: str | None = None  # the county's own KCBX_PII_KEY; unset: generated in its home
    publish_url_env: str | None = None  # how the hub reads its publish schema (kcbx_publisher)

    @property
    def code6(self) -> str:
        return self.code[:6]

    def database_url(self) -> str | None:
        return _from_env(self.url_env)

    def pii_key(self) -> str | None:
        return _from_env(self.pii_key_env)

    def publish_url(self) -> str | None:
        return _from_env(self.publish_url_env)


def _from_env(name: str | None) -> str | None:
    return (os.environ.get(name) or None) if name else None


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    counties: tuple[County, ...]
    hub_url_env: str | None
    path: Path

    def county(self, code: str) -> County:
        for county in self.counties:
            if code in (county.code, county.code6):
                return county
        raise RegionConfigError(f"区域配置中没有该县 / no county {code} in {self.path}")

    def hub_url(self) -> str | None:
        return _from_env(self.hub_url_env)


def _text(entry: dict, key: str, where: str) -> str:
    value = entry.get(key)
    if value is None or str(value).strip() == "":
        raise RegionConfigError(f"{where}: 缺少 {key} / missing '{key}'")
    return str(value).strip()


def _code(entry: dict, where: str, check=None) -> str:
    code = _text(entry, "code", where)
    if check:  # its own rule (kcbx/region/codes.py) checks the digits too
        try:
            return check(code)
        except CodeError as exc:
            raise RegionConfigError(f"{where}: {exc}") from exc
    if not _CODE.match(code):
        raise RegionConfigError(f"{where}: 区划代码应为12位数字 / code must be 12 digits, got {code!r}")
    return code


def _known_keys(entry: dict, keys: tuple[str, ...], where: str) -> None:
    """A misspelt key would silently mean its default (e.g. an embedded hub): refused."""
    unknown = sorted(set(map(str, entry)) - set(keys))
    if unknown:
        raise RegionConfigError(f"{where}: 未知的配置项 / unknown keys {', '.join(unknown)} (known: {', '.join(keys)})")


def _url_env(entry: dict, where: str, key: str = "url_env") -> str | None:
    name = entry.get(key)
    if name is None:
        return None
    if not _ENV.match(str(name)):
        raise RegionConfigError(f"{where}: {key} 应为环境变量名 / {key} must name an environment variable")
    return str(name)


def parse(data: object, path: Path) -> Region:
    if not isinstance(data, dict):
        raise RegionConfigError(f"{path}: 应为 YAML 映射 / must be a YAML mapping with region, hub, counties")
    region = data.get("region")
    if not isinstance(region, dict):
        raise RegionConfigError(f"{path}: 缺少 region: {{code, name}} / missing 'region: {{code, name}}'")
    _known_keys(data, ("region", "hub", "counties"), str(path))
    _known_keys(region, ("code", "name"), f"{path}: region")
    hub = data.get("hub") or {}
    if not isinstance(hub, dict):
        raise RegionConfigError(f"{path}: hub 应为映射 / 'hub' must be a mapping")
    _known_keys(hub, ("url_env",), f"{path}: hub")
    entries = data.get("counties")
    if not isinstance(entries, list) or not entries:
        raise RegionConfigError(f"{path}: 至少需要一个县 / 'counties' must list at least one county")
    counties: list[County] = []
    for i, entry in enumerate(entries, 1):
        where = f"{path}: counties[{i}]"
        if not isinstance(entry, dict):
            raise RegionConfigError(f"{where}: 应为映射 / must be a mapping")
        _known_keys(entry, COUNTY_KEYS, where)
        landing = Path(_text(entry, "landing", where)).expanduser()
        if not landing.is_absolute():
            landing = (path.parent / landing).resolve()
        counties.append(
            County(
                _code(entry, where, check_county_code),
                _text(entry, "name", where),
                landing,
                _url_env(entry, where),
                _url_env(entry, where, "pii_key_env"),
                _url_env(entry, where, "publish_url_env"),
            )
        )
    hub_env = _url_env(hub, f"{path}: hub")
    # Two counties in one warehouse or with one key, or the hub in a county's database,
    # would mix what SPEC §7 keeps apart.
    seen: dict = {} if hub_env is None else {("env", hub_env): "hub"}
    for county in counties:
        values = [("code6", county.code6), ("landing", county.landing)]
        values += [("env", v) for v in (county.url_env, county.pii_key_env, county.publish_url_env) if v]
        for value in values:
            if value in seen:
                raise RegionConfigError(
                    f"{path}: {county.name} 与 {seen[value]} 重复 / {county.name} shares its {value[0]} "
                    f"{value[1]} with {seen[value]}"
                )
            seen[value] = county.name
    region_code = _code(region, f"{path}: region")
    for county in counties:
        try:
            check_region_code(region_code, county.code)
        except CodeError as exc:
            raise RegionConfigError(f"{path}: {county.name}: {exc}") from exc
    name = _text(region, "name", f"{path}: region")
    return Region(region_code, name, tuple(counties), hub_env, path)


def load(path: Path) -> Region:
    import yaml

    path = Path(path).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegionConfigError(f"无法读取区域配置 / cannot read the region file {path}: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RegionConfigError(f"区域配置不是有效的 YAML / {path} is not valid YAML: {exc}") from exc
    return parse(data, path)
