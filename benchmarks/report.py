"""The benchmark's output: rows grouped by section, rendered as Markdown tables with each target's pass/fail.

A row's `result` is the median over rounds; `spread` shows the smallest and largest round beside it, so a reader can
tell a steady figure from a noisy one.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

TIMES = "\u00d7"  # the multiplication sign, as in "4.20 times"


@dataclass(frozen=True)
class Row:
    """One measured comparison: `result` is usually a ratio; `context` holds the absolute figures behind it."""

    measurement: str
    result: str
    context: str = ""
    spread: str = ""
    target: str = ""
    passed: bool | None = None

    @property
    def verdict(self) -> str:
        if self.passed is None:
            return ""
        return "pass" if self.passed else "**FAIL**"


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def missing(self, measurement: str, why: str, target: str = "") -> None:
        """A row that could not be measured; a target it carries counts as failed."""
        self.rows.append(Row(measurement, "n/a", why, target=target, passed=False if target else None))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_section(section: Section) -> str:
    lines = [
        f"### {section.title}",
        "",
        "| measurement | median | min to max | context (medians) | target | |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in section.rows:
        cells = (row.measurement, row.result, row.spread, row.context, row.target, row.verdict)
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    if section.notes:
        lines.append("")
        lines += [f"{note}" for note in section.notes]
    return "\n".join(lines)


def render(sections: Sequence[Section], header: str) -> str:
    targets = [row for section in sections for row in section.rows if row.passed is not None]
    passed = sum(1 for row in targets if row.passed)
    summary = f"**Targets: {passed} of {len(targets)} passed.**"
    return "\n\n".join([header, *(render_section(section) for section in sections), summary]) + "\n"


def ratio(value: float) -> str:
    return f"{value:.2f}{TIMES}"


def spread(values: Sequence[float], show: Callable[[float], str] = ratio) -> str:
    """'min to max' of the rounds; empty for a single round, where there is no spread to show."""
    if len(values) < 2:
        return ""
    return f"{show(min(values))} to {show(max(values))}"


def median_of(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
