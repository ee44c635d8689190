"""Find a feed's header row among the first rows of a delivered file (SPEC §2).

Government spreadsheets open with a merged title (`长川市城关镇0-18周岁人口花名册`), a note
row (`填报单位：……　填报日期：……`) and blank rows. The header is the first row, within the
first HEADER_SEARCH_ROWS, whose cells include every required header of the feed
(canonical name or alias); the rows above it are the file's preamble, not data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kcbx.feeds import Feed
from kcbx.ingest.normalise import clean_text, strip_controls, without_controls

HEADER_SEARCH_ROWS = 10
TITLE_MAX_CHARS = 200


@dataclass
class HeaderMatch:
    """How one row's cells map onto the feed's columns."""

    known: dict[int, str] = field(default_factory=dict)  # header position -> raw column
    extra: dict[int, str] = field(default_factory=dict)  # header position -> undeclared header
    missing: list[str] = field(default_factory=list)  # required headers not in the row


@dataclass
class HeaderSearch:
    index: int  # position of the chosen row among the rows searched (0-based)
    match: HeaderMatch
    found: bool  # False: no row holds every required header; `index` is the closest


def header_text(cell: object) -> str:
    # Control characters are dropped: a header names a raw column or a key of raw.extra.
    return "" if cell is None else strip_controls(str(cell)).strip().lstrip("\ufeff").strip()


def match_header(feed: Feed, cells: list[object]) -> HeaderMatch:
    match = HeaderMatch()
    for position, cell in enumerate(cells):
        name = header_text(cell)
        column = feed.header_index.get(name)
        if column is not None and column.col not in match.known.values():
            match.known[position] = column.col
        elif name:
            match.extra[position] = name
    match.missing = [c.name for c in feed.columns if c.required and c.col not in match.known.values()]
    return match


def find_header(feed: Feed, rows: list[list[object]]) -> HeaderSearch | None:
    """The first row holding every required header; else the non-blank row missing the
    fewest (the first of equals); None when every row searched is blank."""
    best: HeaderSearch | None = None
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if not any(header_text(c) for c in cells):
            continue
        match = match_header(feed, cells)
        if not match.missing:
            return HeaderSearch(index, match, found=True)
        if best is None or len(match.missing) < len(best.match.missing):
            best = HeaderSearch(index, match, found=False)
    return best


def no_header_message(feed: Feed, row_number: int, missing: list[str]) -> str:
    required = "、".join(c.name for c in feed.columns if c.required)
    lacking = "、".join(missing)
    return (
        f"缺少必填列 {lacking}：前 {HEADER_SEARCH_ROWS} 行中没有一行包含全部必填列（{required}），"
        f"最接近的是第 {row_number} 行。请按模板表头重新导出 / missing required column(s) {lacking}: none of "
        f"the first {HEADER_SEARCH_ROWS} rows holds every required column ({required}); the closest is row {row_number}"
    )


# A note row may name the clerk (填表人：张三) and give a phone number: the title names the
# sending unit, which is what an auditor needs, so people and long numbers are blanked.
_PERSON = re.compile(r"(填表人|填报人|制表人|联系人|负责人|审核人|经办人)\s*[:：]\s*[^\s,，;；]*")
_LONG_NUMBER = re.compile(r"\d{7,}")


def title_text(preamble: list[list[object]]) -> str | None:
    """The preamble's non-empty cells as one line, without people's names or long numbers."""
    parts = [t for cells in preamble for t in (clean_text(without_controls(c)) for c in cells) if t]
    if not parts:
        return None
    text = " / ".join(" ".join(p.split()) for p in parts)
    text = _PERSON.sub(lambda m: f"{m.group(1)}：＊", text)
    text = _LONG_NUMBER.sub("＊", text)
    return text[:TITLE_MAX_CHARS]
