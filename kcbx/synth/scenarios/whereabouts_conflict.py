"""去向与学籍矛盾 (SPEC §3): a 去向核实 (县外就读/出国出境/死亡/迁出) of the school year for
a child whose current 学籍 is 在读 at a county school."""

from __future__ import annotations

from datetime import date

from kcbx.synth.expectation import Expectation
from kcbx.synth.generator import Planting

CONTROLS = ("whereabouts_conflict",)


def plant(p: Planting) -> None:
    g = p.g
    c = p.child("whereabouts_conflict", born=g.cohort_birth())
    g.huji(c)
    school = g.school_for(c)
    g.attend(school, g.xueji(c, school), "normal")
    g.whereabouts(c, "县外就读", date(g.term.year, 9, 20))


STEPS = ((20, plant),)


def expect(ctx: Expectation) -> None:
    conflicts = set()
    for r in ctx.rows["xueji"]:
        m = ctx.material_of(r["student_no"])
        if (
            r["registry_status"] == "在读"
            and r["school_code"] in ctx.schools
            and ctx.confirmed.get(m, set()) - {"其他"}
        ):
            conflicts.add((m, r["school_code"]))
    for m, school in sorted(conflicts):
        ctx.add("whereabouts_conflict", m, school, ctx.town_of_school(school))
