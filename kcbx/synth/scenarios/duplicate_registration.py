"""重复学籍 (SPEC §3): one identity number on two 学籍号 - at a county school and outside,
or a 转出 row beside the 在读 one."""

from __future__ import annotations

from collections import defaultdict

from kcbx.synth.expectation import Expectation
from kcbx.synth.generator import Planting


def plant(p: Planting) -> None:
    g, towns = p.g, p.towns
    for i in range(p.k):
        c = p.child("duplicate", born=g.cohort_birth(g.rng.randint(1, 6)))
        g.huji(c)
        school = g.school_for(c)
        g.attend(school, g.xueji(c, school), "normal")
        g.xueji(
            c,
            g.junior[towns[-1]] if i % 2 else g.outside,
            status="转出" if i % 2 else "在读",
            student_no=f"L{g.rng.randrange(10**17):017d}",
        )


STEPS = ((110, plant),)


def expect(ctx: Expectation) -> None:
    numbers: dict[str, set[str]] = defaultdict(set)
    for r in ctx.rows["xueji"]:
        if r["id_number"]:
            numbers[r["id_number"]].add(r["student_no"])
    for number, students in numbers.items():
        if len(students) > 1:
            ctx.add("duplicate_registration", number, None, ctx.town_of_child(number))
