"""For the 公安 回执 (户籍失踪仍到校): a child whose 户籍 says 失踪 but who is 在读 and
attends - enrolled, so no finding, but a 户籍 record the registry contradicts."""

from __future__ import annotations

from datetime import date

from kcbx.synth.generator import NEW_RULES_STREAM, Planting, in_stream

PLANS = {"missing_person_attending": (None, None)}


def plant(p: Planting) -> None:
    g = p.g
    for _ in range(2):
        c = p.child("missing_person_attending", born=g.cohort_birth())
        g.huji(c, status="失踪", changed=date(g.term.year - 1, 4, 12))
        school = g.school_for(c)
        g.attend(school, g.xueji(c, school), "normal")


STEPS = ((205, in_stream(NEW_RULES_STREAM, plant)),)
