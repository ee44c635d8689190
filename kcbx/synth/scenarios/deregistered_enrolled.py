"""户籍注销仍在籍 (SPEC §3): 户籍 closed (死亡/迁出/注销), 学籍 still 在读."""

from __future__ import annotations

from datetime import date

from kcbx.synth.expectation import GONE, Expectation
from kcbx.synth.generator import Planting


def plant(p: Planting) -> None:
    g = p.g
    for status in ("死亡", "迁出", "注销"):
        c = p.child("deregistered", born=g.cohort_birth())
        c.huji_status = status
        g.huji(c, status=status, changed=date(g.term.year, 3, 15))
        school = g.school_for(c)
        no = g.xueji(c, school)
        if status != "死亡":
            g.attend(school, no, "normal")


STEPS = ((100, plant),)


def expect(ctx: Expectation) -> None:
    for r in ctx.rows["xueji"]:
        m = ctx.material_of(r["student_no"])
        if r["registry_status"] == "在读" and ctx.huji_status.get(m) in GONE:
            ctx.add("deregistered_enrolled", m, r["school_code"], ctx.town_of_school(r["school_code"]))
