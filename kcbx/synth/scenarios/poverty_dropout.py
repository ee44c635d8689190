"""脱贫户辍学 (SPEC §3): some out-of-school, phantom and dropout children's households are
in 防返贫监测, and so is a twentieth of the population."""

from __future__ import annotations

from kcbx.synth.expectation import Expectation
from kcbx.synth.generator import Planting, fupin, fupin_row


def plant(p: Planting) -> None:
    g = p.g
    dropouts = p.of_plan("out_never", "out_dropped", "out_missing", "phantom", "suspected")
    for c in g.rng.sample(dropouts, min(len(dropouts), p.k + 1)):
        fupin(g, c)
    for row in g.rng.sample(g.rows["huji"], min(len(g.rows["huji"]), p.children // 20)):
        fupin_row(g, row)


STEPS = ((130, plant),)


def expect(ctx: Expectation) -> None:
    """In 防返贫监测 and out_of_school, phantom_enrolment or suspected_dropout."""
    troubled = ctx.found["out_of_school"] | ctx.found["phantom_enrolment"] | ctx.found["suspected_dropout"]
    for m in sorted({r["id_number"] for r in ctx.rows["fupin"]} & troubled):
        ctx.add("poverty_dropout", m, None, ctx.town_of_child(m))
