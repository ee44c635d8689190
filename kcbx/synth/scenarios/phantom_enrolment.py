"""空挂学籍 (SPEC §3): registered 在读 at a county school that reported attendance, with no
present day there (no roll calls at all, or only 旷课)."""

from __future__ import annotations

from kcbx.synth.expectation import Expectation
from kcbx.synth.generator import Planting


def plant(p: Planting) -> None:
    g = p.g
    for i in range(p.k):
        c = p.child("phantom", born=g.cohort_birth())
        g.huji(c)
        school = g.school_for(c)
        no = g.xueji(c, school)
        if i % 2:
            g.attend(school, no, "absent")


STEPS = ((60, plant),)


def expect(ctx: Expectation) -> None:
    for r, days in ctx.roll_called_enrolments():
        if not any(kind == "present" for kind in days.values()):
            ctx.add(
                "phantom_enrolment",
                ctx.material_of(r["student_no"]),
                r["school_code"],
                ctx.town_of_school(r["school_code"]),
            )
