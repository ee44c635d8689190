"""Which relations a data-quality check's query reads, parsed from its SQL: the suites'
assets and every relation their queries name (kcbx.quality.suites.tables_read), which the
set-up grants the login that runs GX (kcbx.quality.grants) and the quality step analyses.
A FROM or JOIN item this module cannot name is refused, never guessed.
"""

from __future__ import annotations

import re

# Schemas a check may read; a name in any other schema is refused, not guessed.
SCHEMAS = frozenset({"raw", "staging", "intermediate", "marts", "audit", "pii"})


class UnresolvedRelation(ValueError):
    """A FROM or JOIN item of a check's query that is not a relation this module can name."""


_TOKEN = re.compile(
    r"""
    (?P<skip>\s+|--[^\n]*|/\*.*?\*/|'(?:[^']|'')*')   # space, comments, string literals
  | (?P<batch>\{batch\})
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<number>\d+(?:\.\d*)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)
# Functions whose arguments use FROM as a word, not a clause.
_FROM_IN_ARGUMENTS = frozenset({"extract", "substring", "trim", "overlay", "position"})
# Words that end a FROM list (at its own parenthesis depth); with the join words, an item's alias.
_END_OF_FROM = frozenset(
    {"where", "group", "having", "order", "limit", "offset", "fetch", "for", "window", "union", "intersect",
     "except", "returning"}
)  # fmt: skip
_NOT_AN_ALIAS = _END_OF_FROM | {"on", "using", "join", "inner", "left", "right", "full", "cross", "natural"}


def _tokens(query: str) -> list[tuple[str, str]]:
    out = []
    for match in _TOKEN.finditer(query):
        kind = match.lastgroup
        if kind != "skip":
            text = match.group()
            out.append((kind, text.lower() if kind == "word" else text))
    return out


def _closing(tokens: list[tuple[str, str]], i: int) -> int:
    """The index of the parenthesis that closes the one at i."""
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j] == ("punct", "("):
            depth += 1
        elif tokens[j] == ("punct", ")"):
            depth -= 1
            if depth == 0:
                return j
    raise UnresolvedRelation("unbalanced parentheses")


def relations_read(query: str, batch: str) -> set[str]:
    """The schema.table names a query reads, `{batch}` standing for `batch` (the asset).
    Subqueries and VALUES lists are read through; an unqualified name must be a CTE of
    the query. Anything else in a FROM or JOIN item (an unqualified or quoted name, a
    schema that is not kcbx's, a set-returning function) raises UnresolvedRelation."""
    tokens = _tokens(query)
    ctes = {
        tokens[i][1]
        for i in range(1, len(tokens) - 2)
        if tokens[i][0] == "word"
        and tokens[i + 1] == ("word", "as")
        and tokens[i + 2] == ("punct", "(")
        and tokens[i - 1] in (("word", "with"), ("word", "recursive"), ("punct", ","))
    }
    found: set[str] = set()

    def item(j: int) -> int:
        """Resolve the FROM/JOIN item starting at j; the index after it and its alias."""
        if j < len(tokens) and tokens[j] == ("word", "lateral"):
            j += 1
        if j >= len(tokens):
            raise UnresolvedRelation("FROM or JOIN without a relation")
        kind, text = tokens[j]
        if kind == "batch":
            found.add(batch)
            j += 1
        elif (kind, text) == ("punct", "("):
            j = _closing(tokens, j) + 1  # a subquery or VALUES: its own FROMs are scanned on their own
        elif kind == "word" and tokens[j + 1 : j + 2] == [("punct", ".")]:
            name = tokens[j + 2] if j + 2 < len(tokens) else ("", "")
            if name[0] != "word" or text not in SCHEMAS:
                raise UnresolvedRelation(
                    f"cannot resolve {text}.{name[1]} (kcbx schemas: {', '.join(sorted(SCHEMAS))})"
                )
            if tokens[j + 3 : j + 4] == [("punct", "(")]:
                raise UnresolvedRelation(f"{text}.{name[1]}(...) is a function, not a relation")
            found.add(f"{text}.{name[1]}")
            j += 3
        elif kind == "word" and text in ctes:
            j += 1
        else:
            raise UnresolvedRelation(f"cannot resolve {text!r}: name relations as schema.table")
        # The alias, and the column list of a subquery's or VALUES' alias.
        if j < len(tokens) and tokens[j] == ("word", "as"):
            j += 1
        if j < len(tokens) and tokens[j][0] == "word" and tokens[j][1] not in _NOT_AN_ALIAS:
            j += 1
            if j < len(tokens) and tokens[j] == ("punct", "("):
                j = _closing(tokens, j) + 1
        return j

    functions: list[str | None] = []  # per open parenthesis: the function it calls, if any
    for i, (kind, text) in enumerate(tokens):
        if (kind, text) == ("punct", "("):
            before = tokens[i - 1] if i else ("", "")
            functions.append(before[1] if before[0] == "word" else None)
        elif (kind, text) == ("punct", ")"):
            if functions:
                functions.pop()
        elif (kind, text) == ("word", "join"):
            item(i + 1)
        elif (kind, text) == ("word", "from"):
            if functions and functions[-1] in _FROM_IN_ARGUMENTS:
                continue
            if tokens[max(i - 1, 0)] == ("word", "distinct"):  # IS [NOT] DISTINCT FROM
                continue
            # The FROM list: items separated by commas at this depth (JOINs and their
            # conditions between them), until the next clause or the closing ")".
            j, depth = item(i + 1), 0
            while j < len(tokens):
                here = tokens[j]
                if here == ("punct", "("):
                    depth += 1
                elif here == ("punct", ")"):
                    if depth == 0:
                        break
                    depth -= 1
                elif depth == 0 and here[0] == "word" and here[1] in _END_OF_FROM:
                    break
                elif depth == 0 and here == ("punct", ","):
                    j = item(j + 1)
                    continue
                j += 1
    return found
