"""童工 (SPEC §3): out-of-school children found working; workers aged 16-17 are legal (not
found)."""

from __future__ import annotations

from datetime import date, timedelta

from kcbx import identity
from kcbx.synth.expectation import Expectation
from kcbx.synth.generator import Planting, renshe
from kcbx.terms import age_on


def plant(p: Planting) -> None:
    g = p.g
    found = g.school_days[20]
    for c in p.of_plan("out_never")[1 : 1 + max(1, p.k // 2)]:
        renshe(g, c.number, c.name, found)
    for _ in range(2):  # aged 16-17: legal workers, not child labour
        c = p.child("worker", born=date(g.term.year - 17, 3, 1) + timedelta(days=g.rng.randrange(300)))
        g.huji(c)
        renshe(g, c.number, c.name, found)


STEPS = ((160, plant),)


def expect(ctx: Expectation) -> None:
    """In the 人社 list, in the compulsory cohort, under 16 on 发现日期."""
    labour = set()
    for r in ctx.rows["renshe"]:
        born = identity.birth_date(r["id_number"])
        if ctx.term.in_cohort(born) and age_on(born, date.fromisoformat(r["found_on"])) < 16:
            labour.add(r["id_number"])
    for m in sorted(labour):
        ctx.add("child_labour", m, None, ctx.town_of_child(m))
