"""适龄失学 (SPEC §3): never registered, registered as 辍学, missing persons, the cohort's
edges and 小升初 not made - and what is not out of school: confirmed elsewhere (去向核实),
gone from the county, exempt, enrolled outside the county, a grade-9 graduate."""

from __future__ import annotations

from datetime import date, timedelta

from kcbx.synth.expectation import Expectation, keeps_in_school
from kcbx.synth.generator import Planting

CONTROLS = (
    "out_primary_graduate",
    "primary_graduate_continued",
    "junior_graduate",
    "elsewhere_confirmed",
    "abroad_confirmed",
    "out_elsewhere_stale",
    "moved_confirmed",
)


def plant_unschooled(p: Planting) -> None:
    g = p.g
    for _ in range(p.k):
        c = p.child("out_never", born=g.cohort_birth())
        g.huji(c)
        c = p.child("out_dropped", born=g.cohort_birth(g.rng.randint(6, 9)))
        g.huji(c)
        no = g.xueji(c, g.school_for(c), status="辍学", changed=date(g.term.year, 6, 20))
        g.change(no, c, "辍学", date(g.term.year, 6, 20), why=g.rng.choice(["厌学", "外出打工", "学习困难"]))
        c = p.child("out_missing", born=g.cohort_birth())
        g.huji(c, status="失踪", changed=date(g.term.year - 1, 3, 2))
    youngest_last = g.term.cohort[1]
    g.huji(p.child("out_edge_in", born=youngest_last))
    g.huji(p.child("edge_too_young", born=youngest_last + timedelta(days=1)))
    oldest_first = g.term.cohort[0]
    g.huji(p.child("out_edge_in", born=oldest_first))
    g.huji(p.child("edge_too_old", born=oldest_first - timedelta(days=1)))

    # 小升初 (SPEC §3): 毕业 at grade 6 is not completion. A child whose only 学籍 row is a
    # primary school's 毕业 never went on to junior school: out of school. Controls: one
    # whose junior school registered it too (enrolled; its two 学籍号 are a duplicate), and
    # one who graduated from grade 9 (completed).
    graduated = date(g.term.year, 7, 1)
    for _ in range(p.k):
        c = p.child("out_primary_graduate", born=g.cohort_birth(7))
        g.huji(c)
        g.xueji(c, g.primary[g.town_of(c.village)], status="毕业", grade=6, changed=graduated)
    c = p.child("primary_graduate_continued", born=g.cohort_birth(7))
    g.huji(c)
    g.xueji(c, g.primary[g.town_of(c.village)], status="毕业", grade=6, changed=graduated)
    junior = g.junior[g.town_of(c.village)]
    g.attend(junior, g.xueji(c, junior, student_no=f"L{g.rng.randrange(10**17):017d}", grade=7), "normal")
    c = p.child("junior_graduate", born=g.cohort_birth(9))
    g.huji(c)
    g.xueji(c, g.junior[g.town_of(c.village)], status="毕业", grade=9, changed=graduated)
    # 去向核实 (SPEC §3): a child studying with migrant parents elsewhere, confirmed this
    # school year (not out of school), the same confirmed only last school year (still
    # out of school), and a confirmed 迁出 (no longer the county's).
    this_year, last_year = date(g.term.year, 9, 20), date(g.term.year - 1, 10, 8)
    for plan, kind, when in (
        ("elsewhere_confirmed", "县外就读", this_year),
        ("abroad_confirmed", "出国出境", this_year),
        ("out_elsewhere_stale", "县外就读", last_year),
        ("moved_confirmed", "迁出", this_year),
    ):
        c = p.child(plan, born=g.cohort_birth())
        g.huji(c)
        g.whereabouts(c, kind, when)


def plant_flows(p: Planting) -> None:
    """流入: a child who came from another county's school this term, registered and
    attending here (a flow, not a finding); a 去向核实 of 其他, which changes nothing."""
    g = p.g
    c = p.child("transferred_in", born=g.cohort_birth())
    g.huji(c)
    school = g.school_for(c)
    no = g.xueji(c, school, changed=date(g.term.year, 9, 1))
    g.change(no, c, "转入", date(g.term.year, 9, 1), src=g.outside, dst=school, why="随父母返乡")
    g.attend(school, no, "normal")
    c = p.child("whereabouts_other", born=g.cohort_birth())
    g.huji(c)
    g.whereabouts(c, "其他", date(g.term.year, 9, 20))


def plant_not_found(p: Planting) -> None:
    """Not findings: gone from the county; exempt; enrolled elsewhere."""
    g = p.g
    for status in ("死亡", "迁出", "注销"):
        g.huji(p.child("gone", born=g.cohort_birth()), status=status, changed=date(g.term.year - 1, 5, 1))
    for status in ("延缓入学", "免于入学"):
        c = p.child("exempt", born=g.cohort_birth())
        g.huji(c)
        g.xueji(c, g.special, status=status, mode="送教上门")
    c = p.child("enrolled_elsewhere", born=g.cohort_birth())
    g.huji(c)
    g.xueji(c, g.outside)


STEPS = ((10, plant_unschooled), (30, plant_flows), (40, plant_not_found))


def reason(hukou_status: str | None, registrations: list[dict]) -> str:
    """Why an out_of_school child is out of school: the first that applies
    (seeds/out_of_school_reasons.csv lists the reasons and their order)."""
    rows = [(r["registry_status"], int(r["grade"])) for r in registrations]
    if hukou_status == "失踪":
        return "missing_person"
    if any(status == "辍学" for status, _ in rows):
        return "registry_dropout"
    if any(status == "毕业" and grade < 9 for status, grade in rows):
        return "primary_graduate_not_continued"
    if any(status == "转出" for status, _ in rows):
        return "transferred_out_unplaced"
    return "registry_other" if rows else "never_enrolled"


def expect(ctx: Expectation) -> None:
    """A county-responsibility child of the cohort who is not enrolled, exempt or
    completed, and not confirmed as schooled elsewhere."""
    for m in ctx.responsible:
        if not ctx.term.in_cohort(ctx.birth[m]):
            continue
        if any(keeps_in_school(r) for r in ctx.registrations.get(m, [])) or m in ctx.elsewhere:
            continue
        finding = ctx.add("out_of_school", m, None, ctx.town_of_child(m))
        finding["reason"] = reason(ctx.huji_status.get(m), ctx.registrations.get(m, []))
