"""学校未报考勤 (SPEC §3): a county school with 在读 pupils that reported no attendance (the
teaching point, whose pupils are planted here)."""

from __future__ import annotations

from kcbx.synth.expectation import Expectation
from kcbx.synth.generator import Planting


def plant(p: Planting) -> None:
    g = p.g
    for _ in range(max(3, p.k)):
        c = p.child("silent_school", born=g.cohort_birth(g.rng.randint(1, 3)), village=g.villages[p.towns[1]][0])
        g.huji(c)
        g.xueji(c, g.silent)


STEPS = ((120, plant),)


def expect(ctx: Expectation) -> None:
    for school, r in ctx.schools.items():
        has_students = any(x["school_code"] == school and x["registry_status"] == "在读" for x in ctx.rows["xueji"])
        if has_students and not ctx.reported.get(school):
            ctx.add("school_missing_attendance", None, school, r["township_code"])
