"""The places of the hand-made counties (tests/data/indicators, tests/data/monitoring):
one county, two townships with a village each, a primary and a junior school."""

from __future__ import annotations

import csv
from pathlib import Path

COUNTY, TOWN1, TOWN2 = "411082000000", "411082100000", "411082101000"
VILLAGE1, VILLAGE2 = "411082100201", "411082101201"
PRIMARY, JUNIOR = "2141082001", "2141082002"


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def write_places(term: Path) -> None:
    """The regions and schools feeds of a term folder."""
    write_csv(
        term / "regions" / "regions.csv",
        ["区划代码", "名称", "级别", "上级代码"],
        [
            [COUNTY, "长葛市", "县", "411000000000"],
            [TOWN1, "和尚桥镇", "乡镇", COUNTY],
            [TOWN2, "坡胡镇", "乡镇", COUNTY],
            [VILLAGE1, "东村", "村", TOWN1],
            [VILLAGE2, "西村", "村", TOWN2],
        ],
    )
    write_csv(
        term / "schools" / "schools.csv",
        ["学校标识码", "学校名称", "办学类型", "乡镇代码"],
        [[PRIMARY, "和尚桥中心小学", "小学", TOWN1], [JUNIOR, "坡胡第一初级中学", "初中", TOWN2]],
    )


def write_people(term: Path, huji: list[list[str]], xueji: list[list[str]], fupin: list[list[str]]) -> None:
    """The 户籍, 学籍 and 防返贫监测 files of a hand-made county, rows in their headers' order."""
    write_csv(term / "huji" / "huji.csv", ["身份证号", "姓名", "性别", "出生日期", "户籍地区划代码", "人员状态"], huji)
    write_csv(
        term / "xueji" / "xueji.csv",
        ["全国学籍号", "身份证号", "姓名", "性别", "出生日期", "学校标识码", "年级", "学籍状态"],
        xueji,
    )
    write_csv(term / "fupin" / "fupin.csv", ["身份证号", "姓名", "监测类型"], fupin)
