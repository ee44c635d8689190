"""送教上门 (SPEC §3): a home-taught registration is enrolled and not roll-called, so the
attendance rules (phantom_enrolment, suspected_dropout, the unmarked day) do not apply to
it. Planted: disabled children taught at home with a weekly visit (excused otherwise), and
pairs of a home-taught child and an ordinary one at the same school with the same roll
calls - the ordinary one is found, the home-taught one is not."""

from __future__ import annotations

from kcbx.synth.generator import NEW_RULES_STREAM, Planting, canlian, in_stream, new_rule_reps

PLANS = {
    # a home-taught 在读 registration gets no attendance finding, whatever its roll calls;
    # an ordinary registration at the same school with the same roll calls does
    "home_taught_no_roll_calls": (None, None),
    "home_taught_truant": (None, None),
    "home_taught_trailing": (None, None),
    "phantom_no_roll_calls": ("phantom_enrolment", "phantom_enrolment"),
    "phantom_truant": ("phantom_enrolment", "phantom_enrolment"),
    "suspected_trailing": ("suspected_dropout", "suspected_dropout"),
}


def plant_visits(p: Planting) -> None:
    """送教上门 disabled children: excused except visit days; in the 残联 list."""
    g = p.g
    for _ in range(p.k):
        c = p.child("sent_teaching", born=g.cohort_birth())
        g.huji(c)
        g.attend(g.special, g.xueji(c, g.special, mode="送教上门"), "visit")
        canlian(g, c, "送教上门")


def plant_pairs(p: Planting) -> None:
    """送教上门 pairs: a home-taught child with no roll calls, with only a few 旷课 roll
    calls, or attending and then 旷课 to the end of term, and an ordinary child with the
    same roll calls at the same school (就读方式 empty, 普通, 特教学校 or 随班就读 in turn).
    Every other pair is at 特殊教育学校, the rest at a 小学."""
    g, reps = p.g, new_rule_reps(p)
    for i in range(reps):
        for home, ordinary, pattern in (
            ("home_taught_no_roll_calls", "phantom_no_roll_calls", None),
            ("home_taught_truant", "phantom_truant", f"truant{2 + i % 3}"),
            ("home_taught_trailing", "suspected_trailing", f"trail{4 + i % 3}"),
        ):
            grade = g.rng.randint(1, 6)
            c = p.child(home, born=g.cohort_birth(grade))
            near = p.child(ordinary, born=g.cohort_birth(grade), village=c.village)
            school = g.special if i % 2 == 0 else g.primary[g.town_of(c.village)]
            for child, mode in ((c, "送教上门"), (near, ("", "普通", "特教学校", "随班就读")[i % 4])):
                g.huji(child)
                no = g.xueji(child, school, mode=mode)
                if pattern:
                    g.attend(school, no, pattern)


STEPS = ((80, plant_visits), (180, in_stream(NEW_RULES_STREAM, plant_pairs)))
