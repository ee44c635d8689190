"""Expected findings (SPEC §3), computed in plain Python from the rows the
generator wrote: the answer key for the SQL in dbt_project/, independent of it. The facts
rules share are kcbx.synth.expectation's; each finding type's rule is its scenario's
`expect` (kcbx/synth/scenarios/<finding_type>.py)."""

from __future__ import annotations

from datetime import date

from kcbx.settings import dbt_var
from kcbx.synth import scenarios
from kcbx.synth.expectation import Expectation
from kcbx.synth.generator import County


def expected_findings(county: County, dropout_days: int | None = None, today: date | None = None) -> list[dict]:
    """Every finding the term's rows imply, each type's rule in its scenario's order."""
    if dropout_days is None:
        dropout_days = dbt_var("dropout_days")  # the threshold's one default
    ctx = Expectation.of(county, dropout_days, today or date.today())
    for scenario in scenarios.finding_modules().values():
        scenario.expect(ctx)
    return ctx.findings
