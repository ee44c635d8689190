"""缓免学未审批 (SPEC §3): exempt children (学籍 延缓入学/免于入学) and the bureau's approvals
(huanmian) that do or do not cover the term's census date - on it, the day before, of the
other status, open-ended from this or last school year, dated after it, none; and exempt
children no rule reaches (gone, never the county's, too old)."""

from __future__ import annotations

from datetime import date, timedelta

from kcbx.synth.expectation import EXEMPT, Expectation
from kcbx.synth.generator import NEW_RULES_STREAM, Child, Planting, approval, in_stream, new_rule_reps

UNAPPROVED = ("exemption_unapproved", "exemption_unapproved")
PLANS = {
    "exempt": (None, None),  # the two out_of_school's scenario plants, now approved
    "exempt_approved": (None, None),
    "exempt_approval_ends_on_census": (None, None),
    "exempt_approval_open_this_year": (None, None),
    "exempt_approval_ended_day_before": UNAPPROVED,
    "exempt_approval_other_type": UNAPPROVED,
    "exempt_approval_open_last_year": UNAPPROVED,
    "exempt_approved_after_census": UNAPPROVED,
    "exempt_unapproved": UNAPPROVED,
    "exempt_approval_ends_midyear": (None, "exemption_unapproved"),
    "exempt_unapproved_moved": (None, None),
    "exempt_unapproved_not_county": (None, None),
    "exempt_unapproved_out_of_cohort": (None, None),
    "enrolled_with_approval": (None, None),
}


def plant(p: Planting) -> None:
    """Exempt children (学籍 延缓入学/免于入学, in turn) and their approvals, around the
    term's census date; an approval's 有效期至 left empty runs to the 31 August ending the
    school year of its 审批日期."""
    g, reps = p.g, new_rule_reps(p)
    y, census = g.term.year, g.term.census_date
    before, year_end = date(y, 6, 20), date(y + 1, 8, 31)  # cover both terms' census dates
    a_year_before = date(census.year - 1, census.month, 1)
    for c in p.of_plan("exempt"):
        approval(g, c, next(r["学籍状态"] for r in g.rows["xueji"] if r["身份证号"] == c.number), before, year_end)

    def exempt(plan: str, status: str, at_special: bool, born: date | None = None, huji: str | None = "正常") -> Child:
        c = p.child(plan, born=born or g.cohort_birth(1 if status == "延缓入学" else None))
        c.huji_status = huji
        if huji:
            g.huji(c, status=huji, changed=None if huji == "正常" else date(y - 1, 5, 1))
        school = g.outside if huji is None else g.special if at_special else g.school_for(c)
        g.xueji(c, school, status=status, mode="送教上门" if at_special else "", changed=date(y, 8, 25))
        return c

    for i in range(reps):
        status, other = ("延缓入学", "免于入学")[:: 1 if i % 2 == 0 else -1]
        special = i % 2 == 1
        c = exempt("exempt_approved", status, special)
        approval(g, c, status, before, year_end)
        if i % 2:  # and an earlier approval, long expired
            approval(g, c, status, date(y - 2, 6, 20), date(y - 1, 8, 31))
        approval(g, exempt("exempt_approval_ends_on_census", status, special), status, a_year_before, census)
        this_year = date(y, 9, 1) if i % 2 == 0 else census  # runs to (y+1)-08-31
        approval(g, exempt("exempt_approval_open_this_year", status, special), status, this_year)
        approval(
            g, exempt("exempt_approval_ended_day_before", status, special), status, a_year_before, census - timedelta(1)
        )
        approval(g, exempt("exempt_approval_other_type", status, special), other, before, year_end)
        last_year = date(y - 1, 10, 15) if i % 2 == 0 else date(y, 8, 31)  # runs to y-08-31
        approval(g, exempt("exempt_approval_open_last_year", status, special), status, last_year)
        approval(
            g,
            exempt("exempt_approved_after_census", status, special),
            status,
            census + timedelta(1),
            date(y + 2, 8, 31),
        )
        exempt("exempt_unapproved", status, special)
        # Covers the autumn census date (30 Sep), not the spring one (31 Mar).
        approval(g, exempt("exempt_approval_ends_midyear", status, special), status, before, date(y + 1, 1, 31))
        # Near misses, no approval: gone from the county, never the county's, too old.
        exempt("exempt_unapproved_moved", status, special, huji="迁出")
        exempt("exempt_unapproved_not_county", status, special, huji=None)
        exempt("exempt_unapproved_out_of_cohort", status, special, born=g.term.cohort[0] - timedelta(1 + i))
        c = p.child("enrolled_with_approval", born=g.cohort_birth())
        g.huji(c)
        school = g.school_for(c)
        g.attend(school, g.xueji(c, school), "normal")
        approval(g, c, status, before, year_end)


STEPS = ((190, in_stream(NEW_RULES_STREAM, plant)),)


def covers(row: dict, census: date) -> bool:
    """An approval covers a term when 审批日期 <= census date <= 有效期至, an empty 有效期至
    running to the 31 August that ends the school year of 审批日期 (SPEC §2-3)."""
    approved = date.fromisoformat(row["approved_on"])
    if row["valid_until"]:
        until = date.fromisoformat(row["valid_until"])
    else:
        until = date(approved.year + (approved.month >= 9), 8, 31)
    return approved <= census <= until


def expect(ctx: Expectation) -> None:
    """A county-responsibility cohort child who is exempt (not enrolled, not completed)
    and whom no approval of its exempt status covers the census date."""
    for m in sorted(ctx.responsible):
        regs = ctx.registrations[m]
        if not ctx.term.in_cohort(ctx.birth[m]):
            continue
        if any(r["registry_status"] in ("在读", "休学") for r in regs):
            continue
        if any(r["registry_status"] == "毕业" and int(r["grade"]) == 9 for r in regs):
            continue
        statuses = {r["registry_status"] for r in regs} & EXEMPT
        if not statuses:
            continue
        approvals = (a for a in ctx.rows["huanmian"] if a["id_number"] == m and a["approval_type"] in statuses)
        if not any(covers(a, ctx.term.census_date) for a in approvals):
            ctx.add("exemption_unapproved", m, None, ctx.town_of_child(m))
