"""The run's report: a Markdown table of every result, then the pass count per server (and per adapter)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from conformance.runner import Result

_HEADER = ("server", "adapter", "mode", "scenario", "result", "reason")


def _row(result: Result) -> tuple[str, ...]:
    verdict = "pass" if result.passed else "FAIL"
    reason = result.reason.replace("|", "\\|").replace("\n", " ")
    return (result.server, result.adapter, result.mode, result.scenario, verdict, reason)


def table(results: Iterable[Result]) -> str:
    rows = [_HEADER, *(_row(result) for result in results)]
    # Pad every column but the last (the reasons), so the table reads in a terminal and renders as Markdown.
    widths = [max(len(row[column]) for row in rows) for column in range(len(_HEADER) - 1)]

    def line(cells: Sequence[str]) -> str:
        padded = [cell.ljust(width) for cell, width in zip(cells[:-1], widths, strict=True)] + [cells[-1]]
        return "| " + " | ".join(padded) + " |"

    separator = "| " + " | ".join(["-" * width for width in widths] + ["---"]) + " |"
    return "\n".join([line(rows[0]), separator, *(line(row) for row in rows[1:])])


def counts(results: Sequence[Result], titles: dict[str, str]) -> str:
    lines = []
    for server, title in titles.items():
        mine = [result for result in results if result.server == server]
        adapters = dict.fromkeys(result.adapter for result in mine)
        split = ", ".join(
            f"{adapter} {_passed([result for result in mine if result.adapter == adapter])}" for adapter in adapters
        )
        lines.append(f"{server} ({title}): {_passed(mine)} passed" + (f" ({split})" if split else ""))
    return "\n".join(lines)


def _passed(results: Sequence[Result]) -> str:
    return f"{sum(result.passed for result in results)}/{len(results)}"
