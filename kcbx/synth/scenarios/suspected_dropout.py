"""疑似辍学 (SPEC §3): attends, then stops - the last dropout_days or more reported days up
to the school's last reported day all unexcused - at a school that stopped reporting early
too; and runs just below the threshold (not found)."""

from __future__ import annotations

from kcbx.synth.expectation import Expectation
from kcbx.synth.generator import Planting


def plant(p: Planting) -> None:
    g = p.g
    for i in range(p.k):
        at_early_stop = i % 3 == 0  # a school that stopped reporting early: runs end at its last day
        c = p.child("suspected", born=g.cohort_birth(7 if at_early_stop else None))
        g.huji(c)
        school = g.early_stop if at_early_stop else g.school_for(c)
        g.attend(school, g.xueji(c, school), f"stops{3 + i % 4}")
    for run in (1, 2):
        c = p.child("short_run", born=g.cohort_birth())
        g.huji(c)
        school = g.school_for(c)
        g.attend(school, g.xueji(c, school), f"run{run}")


STEPS = ((70, plant),)


def expect(ctx: Expectation) -> None:
    for r, days in ctx.roll_called_enrolments():
        if not any(kind == "present" for kind in days.values()):
            continue  # phantom_enrolment, not a dropout
        school = r["school_code"]
        run = 0
        for day in sorted(ctx.reported[school], reverse=True):
            if days.get(day, "unexcused") != "unexcused":
                break
            run += 1
        if run >= ctx.dropout_days:
            ctx.add("suspected_dropout", ctx.material_of(r["student_no"]), school, ctx.town_of_school(school))
