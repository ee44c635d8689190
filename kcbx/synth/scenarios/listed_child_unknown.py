"""部门名单儿童无户籍学籍 (SPEC §3): children on a department's list (fupin, canlian,
minzheng, sifa) whom neither 户籍 nor 学籍 knows, some with a stale 去向核实; and listed
children known after all: a 学籍 row outside the county, a 户籍 迁出, a 去向核实 of 其他
this school year, born outside the cohort; and one only 人社 knows (not one of the lists)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from kcbx import identity
from kcbx.synth.expectation import Expectation
from kcbx.synth.generator import (
    NEW_RULES_STREAM,
    Child,
    Planting,
    canlian,
    fupin,
    in_stream,
    minzheng,
    new_rule_reps,
    renshe,
    sifa,
)

UNKNOWN = ("listed_child_unknown", "listed_child_unknown")
PLANS = {
    "listed_unknown_fupin": UNKNOWN,  # township from the fupin 区划代码
    "listed_unknown": UNKNOWN,  # no township
    "listed_unknown_stale_whereabouts": UNKNOWN,
    "listed_outside_registration": (None, None),
    "listed_moved_out": (None, None),
    "listed_whereabouts_other": (None, None),
    "listed_out_of_cohort": (None, None),
    "renshe_unknown": ("child_labour", "child_labour"),  # 人社 is not one of the four lists
}
LISTS = ("fupin", "canlian", "minzheng", "sifa")


def plant(p: Planting) -> None:
    """Children in a department's list (fupin, canlian, minzheng, sifa) that neither 户籍
    nor 学籍 knows, some with a stale 去向核实; and listed children that are known after
    all: a 学籍 row outside the county, a 户籍 迁出, a 去向核实 of 其他 this school year, or
    born outside the cohort. And one only 人社 knows (child labour, not a list here)."""
    g, reps = p.g, new_rule_reps(p)
    y = g.term.year
    first, last = g.term.cohort
    this_year, last_year = (date(y, 9, 1), date(y, 9, 20)), (date(y - 1, 10, 8), date(y, 8, 31))

    def listed(plan: str, lists: str, born: date | None = None) -> Child:
        c = p.child(plan, born=born or g.cohort_birth())
        c.huji_status = None
        for name in lists.split():
            if name in ("fupin", "fupin_no_code"):
                fupin(g, c)
                if name == "fupin_no_code":
                    g.rows["fupin"][-1]["区划代码"] = ""
            elif name == "canlian":
                canlian(g, c, "随班就读")
            elif name == "minzheng":
                minzheng(g, {"身份证号": c.number, "姓名": c.name})
            else:
                sifa(g, {"身份证号": c.number, "姓名": c.name, "性别": c.sex})
        return c

    for i in range(reps):
        listed("listed_unknown_fupin", "fupin" if i % 2 == 0 else "minzheng fupin")
    for i, lists in enumerate(("canlian", "sifa", "fupin_no_code", "minzheng", "fupin_no_code sifa")):
        listed("listed_unknown", lists, born=(first, last)[i] if i < 2 else None)  # the cohort's edges
    for i in range(reps):
        c = listed("listed_unknown_stale_whereabouts", ("fupin", "minzheng")[i % 2])
        g.whereabouts(c, ("县外就读", "其他")[i % 2], last_year[i % 2])
        c = listed("listed_outside_registration", ("fupin", "canlian")[i % 2])
        g.xueji(c, g.outside, status=("在读", "转出")[i % 2])
        c = listed("listed_moved_out", ("canlian", "fupin")[i % 2])
        c.huji_status = "迁出"
        g.huji(c, status="迁出", changed=date(y - 1, 5, 1))
        c = listed("listed_whereabouts_other", ("sifa", "minzheng")[i % 2])
        g.whereabouts(c, "其他", this_year[i % 2])
        listed(
            "listed_out_of_cohort",
            ("fupin", "minzheng")[i % 2],
            born=(first - timedelta(1), last + timedelta(1))[i % 2],
        )
    for _ in range(min(reps, 2)):
        c = p.child("renshe_unknown", born=g.cohort_birth(g.rng.randint(5, 8)))
        c.huji_status = None
        renshe(g, c.number, c.name, g.school_days[20])


STEPS = ((200, in_stream(NEW_RULES_STREAM, plant)),)


def expect(ctx: Expectation) -> None:
    """A cohort child on one of the four lists with no 户籍 row, no 学籍 row and no
    去向核实 dated in the school year (any 去向类型); township from the fupin 区划代码."""
    year = ctx.term.year
    known = set(ctx.huji_status) | {r["id_number"] for r in ctx.rows["xueji"] if r["id_number"]}
    known |= {
        r["id_number"]
        for r in ctx.rows["quxiang"]
        if date(year, 9, 1) <= date.fromisoformat(r["confirmed_on"]) <= date(year + 1, 8, 31)
    }
    listed = {r["id_number"] for name in LISTS for r in ctx.rows[name]}
    fupin_towns: dict[str, set[str]] = defaultdict(set)
    for r in ctx.rows["fupin"]:
        if r["region_code"]:
            fupin_towns[r["id_number"]].add(r["region_code"][:9] + "000")
    for m in sorted(listed - known):
        if ctx.term.in_cohort(identity.birth_date(m)):
            ctx.add("listed_child_unknown", m, None, min(fupin_towns[m], default=None))
