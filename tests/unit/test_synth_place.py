"""The synthetic generator makes distinct counties (kcbx.synth.place.Place), so that a region
of several can be synthesised (SPEC §7): each county's identity numbers, townships and
school codes are its own, its name is in its rows, and the default Place is the
development county exactly as before; `kcbx synth --region-config` writes one per county."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from kcbx.synth.county import generate
from kcbx.synth.generator import COUNTY6, COUNTY_CODE, COUNTY_NAME, DEFAULT_PLACE
from kcbx.synth.place import Place, PlaceError, check_county_code, county_seed

pytestmark = pytest.mark.unit

CHILDREN, SEED, TERM = 300, 31, "2025-2026-1"
YUZHOU = Place.of_county("411081000000", "禹州市")
YANLING = Place.of_county("411024000000", "鄢陵县", parent="411000000000")
PLACES = (DEFAULT_PLACE, YUZHOU, YANLING)


@pytest.fixture(scope="module")
def counties():
    return {place.code: generate(children=CHILDREN, seed=SEED, term=TERM, place=place) for place in PLACES}


def _numbers(county) -> set[str]:
    return {r["身份证号"] for r in county.rows["huji"]} | {r["监护人身份证号"] for r in county.rows["huji"]}


def _school_codes(county) -> set[str]:
    """Every school code the county's rows name: its own schools and the one outside it."""
    codes = {r["学校标识码"] for r in county.rows["schools"]} | {r["学校标识码"] for r in county.rows["xueji"]}
    changes = county.rows["xueji_changes"]
    return codes | {r[k] for r in changes for k in ("原学校标识码", "现学校标识码") if r[k]}


def _towns(county) -> set[str]:
    return {r["区划代码"] for r in county.rows["regions"] if r["级别"] == "乡镇"}


def test_of_county_codes():
    assert (YUZHOU.code6, YUZHOU.parent, YUZHOU.school(1), YUZHOU.outside_school) == (
        "411081",
        "411000000000",
        "2411081001",
        "2411081999",
    )
    assert YANLING.parent == "411000000000" and YANLING.school(34) == "2411024034"


def test_each_county_has_its_own_identity_prefix_townships_and_schools(counties):
    for place in PLACES:
        county = counties[place.code]
        assert county.place == place
        assert {n[:6] for n in _numbers(county)} == {place.code6}
        # only migrant children (户籍 elsewhere) have another prefix in 学籍
        assert {r["身份证号"][:6] for r in county.rows["xueji"] if r["身份证号"]} == {
            place.code6,
            place.migrant_origin6,
        }
        assert all(re.fullmatch(rf"{place.code6}1\d\d000", t) for t in _towns(county))
        villages = [r for r in county.rows["regions"] if r["级别"] == "村"]
        assert villages and all(
            r["上级代码"] in _towns(county) and r["区划代码"][:9] == r["上级代码"][:9] for r in villages
        )
        codes = _school_codes(county)
        assert place.outside_school in codes
        assert all(len(c) == 10 and c.startswith(place.school_prefix) for c in codes - {place.outside_school})
        own = {r["学校标识码"] for r in county.rows["schools"]}
        assert place.outside_school not in own and len(own) == len(county.rows["schools"])
    for i, a in enumerate(PLACES):
        for b in PLACES[i + 1 :]:
            ca, cb = counties[a.code], counties[b.code]
            # booleans only: a failure must not print identity numbers
            shared_prefix = bool({n[:6] for n in _numbers(ca)} & {n[:6] for n in _numbers(cb)})
            shared_number = bool(_numbers(ca) & _numbers(cb))
            assert not shared_prefix and not shared_number, (a.name, b.name)
            assert not _towns(ca) & _towns(cb)
            assert not _school_codes(ca) & _school_codes(cb), (a.name, b.name)


def test_the_county_name_and_region_are_in_its_rows(counties):
    for place in PLACES:
        county = counties[place.code]
        top = county.rows["regions"][0]
        assert top == {"区划代码": place.code, "名称": place.name, "级别": "县", "上级代码": place.parent}
        towns = [r for r in county.rows["regions"] if r["级别"] == "乡镇"]
        assert {r["上级代码"] for r in towns} == {place.code}
        special = [r for r in county.rows["schools"] if r["办学类型"] == "特殊教育学校"]
        assert [r["学校名称"] for r in special] == [f"{place.name}特殊教育学校"]
        assert {r["审批单位"] for r in county.rows["huanmian"]} == {f"{place.name}教育局"}
        others = {p.name for p in PLACES} - {place.name}
        text = json.dumps(county.rows, ensure_ascii=False)
        assert not any(name in text for name in others)


def test_the_default_place_is_the_development_county_as_before():
    default = Place(COUNTY_CODE, COUNTY_NAME, "411000000000", "2141082", "2141099001", "410102")
    assert default == DEFAULT_PLACE
    assert (COUNTY6, COUNTY_CODE, COUNTY_NAME) == ("411082", "411082000000", "长葛市")
    plain = generate(children=CHILDREN, seed=SEED, term=TERM)
    # today's codes, pinned
    assert plain.rows["regions"][:2] == [
        {"区划代码": "411082000000", "名称": "长葛市", "级别": "县", "上级代码": "411000000000"},
        {"区划代码": "411082100000", "名称": "和尚桥镇", "级别": "乡镇", "上级代码": "411082000000"},
    ]
    schools = [r["学校标识码"] for r in plain.rows["schools"]]
    assert schools == [f"2141082{i:03d}" for i in range(1, len(schools) + 1)]
    assert "2141099001" in _school_codes(plain)


def test_a_county_differs_from_another_with_the_same_seed_only_in_its_codes(counties):
    """Same seed, other place: the same people drawn (a region's counties differ by their seeds)."""
    a, b = counties[YUZHOU.code], counties[YANLING.code]
    assert [r["姓名"] for r in a.rows["huji"]] == [r["姓名"] for r in b.rows["huji"]]
    assert county_seed(SEED, YUZHOU.code) != county_seed(SEED, YANLING.code)
    assert county_seed(SEED, YUZHOU.code) == county_seed(SEED, YUZHOU.code)
    assert county_seed(SEED, YUZHOU.code) != county_seed(SEED + 1, YUZHOU.code)


@pytest.mark.parametrize(
    "code, name, parent",
    [
        ("41108100000", "禹州市", None),  # 11 digits
        ("4110810000OO", "禹州市", None),
        ("411000000000", "许昌市", None),  # a 地级市, not a county
        ("411081001000", "禹州市", None),  # a township
        ("411081000000", "", None),
        ("411081000000", "禹州市", "3200"),
        ("411081000000", "禹州市", "320000000000"),  # another province
        ("411081000000", "禹州市", "411081000000"),  # itself
    ],
)
def test_bad_codes_are_refused_with_a_message(code, name, parent):
    with pytest.raises(PlaceError, match=r"/ "):
        Place.of_county(code, name, parent)


def test_a_county_code_is_twelve_digits_ending_in_six_zeros():
    assert check_county_code(" 411081000000 ") == "411081000000"
    with pytest.raises(PlaceError, match="12 digits"):
        check_county_code("411081")


def _kcbx(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kcbx.cli", "synth", *args], capture_output=True, text=True)


def test_synth_region_config_writes_each_county_into_its_landing(tmp_path):
    from kcbx.cli.schemas import SCHEMAS

    config = tmp_path / "region.yml"
    config.write_text(
        'region: {code: "411000000000", name: 许昌市}\n'
        "counties:\n"
        '  - {code: "411082000000", name: 长葛市, landing: c411082}\n'
        f'  - {{code: "411081000000", name: 禹州市, landing: {tmp_path / "c411081"}}}\n',
        encoding="utf-8",
    )
    out = _kcbx("--region-config", str(config), "--children", "100", "--seed", "5", "--json")
    assert out.returncode == 0, out.stderr
    document = json.loads(out.stdout)
    import jsonschema

    jsonschema.validate(document, SCHEMAS["synth"])
    assert [c["code"] for c in document["counties"]] == ["411082000000", "411081000000"]
    assert document["region"]["code"] == "411000000000"
    lines = [line for line in out.stderr.splitlines() if line.startswith("合成县数据")]
    assert len(lines) == 2 and "长葛市" in lines[0] and "禹州市" in lines[1]
    assert not re.search(r"\d{17}[\dX]", out.stdout + out.stderr)  # no identity number
    written = {}
    for county in document["counties"]:
        landing = tmp_path / f"c{county['code'][:6]}"
        assert county["out"] == str(landing)
        expected = json.loads((landing / "expected.json").read_text(encoding="utf-8"))
        assert expected["seed"] == county["seed"] == county_seed(5, county["code"])
        assert expected["counts"] == county["findings"]
        regions = (landing / TERM / "regions" / "regions.csv").read_text(encoding="utf-8").splitlines()
        assert regions[1] == f"{county['code']},{county['name']},县,411000000000"
        schools = (landing / TERM / "schools" / "schools.csv").read_text(encoding="utf-8").splitlines()[1:]
        assert all(s.startswith("2" + county["code"][:6]) for s in schools)
        written[county["code"]] = {f["child"] for f in expected["findings"]} - {None}  # None: a school's
    shared = bool(written["411082000000"] & written["411081000000"])  # a boolean: no identity number printed
    assert written["411082000000"] and not shared
    totals = document["findings"][TERM]
    assert sum(totals.values()) == sum(sum(c["findings"][TERM].values()) for c in document["counties"])


def test_synth_refuses_bad_county_options_with_exit_2(tmp_path):
    bad = _kcbx("--out", str(tmp_path / "x"), "--county", "4110810", "--county-name", "禹州市")
    assert bad.returncode == 2 and "12 digits" in bad.stderr
    assert _kcbx("--out", str(tmp_path / "x"), "--county-name", "禹州市").returncode == 2
    both = _kcbx("--region-config", str(tmp_path / "r.yml"), "--county", "411081000000")
    assert both.returncode == 2 and "--region-config" in both.stderr
    missing = _kcbx("--region-config", str(tmp_path / "none.yml"))
    assert missing.returncode == 2 and "none.yml" in missing.stderr
    assert _kcbx("--children", "10").returncode == 2  # neither --out nor --region-config
    assert not (tmp_path / "x").exists()


def test_the_region_form_never_writes_among_real_deliveries(tmp_path):
    """region.yml may be production's: a landing folder with a term and no expected.json
    (not written by synth) is refused before anything is written."""
    real = tmp_path / "real"
    (real / TERM / "huji").mkdir(parents=True)
    (tmp_path / "region.yml").write_text(
        'region: {code: "411000000000", name: 许昌市}\n'
        f'counties:\n  - {{code: "411081000000", name: 禹州市, landing: {tmp_path / "new"}}}\n'
        f'  - {{code: "411082000000", name: 长葛市, landing: {real}}}\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "kcbx.cli", "synth", "--region-config", str(tmp_path / "region.yml"),
         "--children", "60"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "already hold deliveries" in done.stderr
    assert not (tmp_path / "new").exists() and sorted(p.name for p in (real / TERM).iterdir()) == ["huji"]
