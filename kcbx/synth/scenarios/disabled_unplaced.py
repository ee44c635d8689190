"""残疾儿童未安置 (SPEC §3): some out-of-school children are in the 残联 list, and so is a
hundredth of the population."""

from __future__ import annotations

from kcbx.synth.expectation import Expectation
from kcbx.synth.generator import Planting, canlian, canlian_row


def plant(p: Planting) -> None:
    g = p.g
    out = p.of_plan("out_never", "out_dropped")
    for c in out[1 : 1 + max(1, p.k // 2)]:
        canlian(g, c, "随班就读")
    for row in g.rng.sample(g.rows["huji"], min(len(g.rows["huji"]), p.children // 100)):
        canlian_row(g, row, "随班就读")


STEPS = ((140, plant),)


def expect(ctx: Expectation) -> None:
    """In the 残联 list and out_of_school."""
    for m in sorted({r["id_number"] for r in ctx.rows["canlian"]} & ctx.found["out_of_school"]):
        ctx.add("disabled_unplaced", m, None, ctx.town_of_child(m))
