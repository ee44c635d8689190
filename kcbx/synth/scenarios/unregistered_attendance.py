"""人籍不一致 (SPEC §3): transferred out but still attending; attending the wrong school;
an attendance 学籍号 the registry does not know."""

from __future__ import annotations

from datetime import date

from kcbx.synth.expectation import Expectation
from kcbx.synth.generator import Planting


def plant(p: Planting) -> None:
    g, towns = p.g, p.towns
    for i in range(p.k):
        c = p.child("unregistered", born=g.cohort_birth())
        g.huji(c)
        school = g.school_for(c)
        if i % 2 == 0:
            no = g.xueji(c, school, status="转出", changed=date(g.term.year, 8, 25))
            g.change(no, c, "转出", date(g.term.year, 8, 25), src=school, dst=g.outside, why="随父母务工")
            g.attend(school, no, "normal")
        else:
            other = g.junior[towns[(towns.index(g.town_of(c.village)) + 1) % len(towns)]]
            no = g.xueji(c, school)
            g.attend(other, no, "normal")
    g.attend(g.primary[towns[0]], f"L{g.rng.randrange(10**17):017d}", "normal")


STEPS = ((90, plant),)


def expect(ctx: Expectation) -> None:
    """Present at a school where the 学籍号 is not 在读/休学."""
    enrolled_at = {
        (r["student_no"], r["school_code"]) for r in ctx.rows["xueji"] if r["registry_status"] in ("在读", "休学")
    }
    for (school, student_no), days in ctx.day_status.items():
        if "present" in days.values() and (student_no, school) not in enrolled_at:
            ctx.add("unregistered_attendance", ctx.material_of(student_no), school, ctx.town_of_school(school))
