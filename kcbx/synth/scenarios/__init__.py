"""Synthetic scenarios: what the generator plants, and the independent expectation.

Each module here is one scenario. A finding type's module is named after the type
(`<finding_type>.py`, one per row of dbt_project/seeds/finding_types.csv) and defines

- `STEPS`: (order, function) pairs - each function plants its cases into a
  kcbx.synth.generator.Planting. county.generate() runs every scenario's steps and its own
  (population, department lists, persuasion, ...) sorted by order, so a scenario plants
  where the county's random draws expect it; a new scenario plants in a stream of its own
  (Generator.own_stream) at an order after the others, and changes nobody else's children;
- `expect(ctx)`: the type's rule in plain Python, adding findings to a
  kcbx.synth.expectation.Expectation built from the rows written (never the warehouse).
  Expectations run in the order of the modules' first step, so a rule that reads another
  type's findings (ctx.found) comes after it;
- optionally `CONTROLS`, plans whose identity numbers County.controls lists for tests, and
  `PLANS`, plan -> the finding it must give in (autumn, spring) (None: none at all).

Other modules (home_teaching) plant cases for rules that are not finding types of their
own. Adding a finding type adds its module; nothing here lists them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from types import ModuleType

from kcbx.synth.generator import Planting

Step = tuple[int, Callable[[Planting], None]]


def modules() -> list[ModuleType]:
    """Every scenario module, in the order of its first planting step."""
    found = [importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__)]
    return sorted(found, key=lambda m: (min(order for order, _ in m.STEPS), m.__name__))


def finding_modules() -> dict[str, ModuleType]:
    """finding_type -> its scenario module (the modules with an expectation)."""
    return {m.__name__.rsplit(".", 1)[1]: m for m in modules() if hasattr(m, "expect")}


def steps() -> list[Step]:
    return [step for m in modules() for step in m.STEPS]


def controls() -> tuple[str, ...]:
    """The plans whose children County.controls names, every scenario's."""
    return tuple(plan for m in modules() for plan in (*getattr(m, "CONTROLS", ()), *getattr(m, "PLANS", {})))


def plans() -> dict[str, tuple[str | None, str | None]]:
    """plan -> the finding each of its children must give in (autumn, spring)."""
    return {plan: outcome for m in modules() for plan, outcome in getattr(m, "PLANS", {}).items()}
