"""How costly a rule's regular expression may be, decided by reading it (no timeout needed).

Python's ``re`` backtracks: ``(a+)+$`` takes exponential time on a supplier name of thirty
``a``s and a following ``b``, and ``a{4294967296}`` does not even compile (OverflowError). A rule
runs on every imported line, so a pattern is refused when it repeats anything more than
``MAX_REPEAT`` times or repeats a group that itself repeats (a nested repetition). Ledger
fields are short, so neither is needed to match them.
"""

from __future__ import annotations

import re

MAX_REPEAT = 1000
_COUNTED = re.compile(r"\{(\d*)(?:,(\d*))?\}")


def pattern_cost_problem(pattern: str) -> str | None:
    """Why ``pattern`` is too costly to run on every line, or None when it is not."""
    for match in _COUNTED.finditer(pattern):
        for bound in match.groups():
            if bound and int(bound) > MAX_REPEAT:
                return (
                    f"repeats something {int(bound):,} times; a rule may repeat at most "
                    f"{MAX_REPEAT:,} times"
                )
    if _has_nested_repetition(pattern):
        return (
            "repeats a group that itself repeats (such as (a+)+), which can take hours on one "
            "line; write the inner or the outer repetition only"
        )
    return None


def _has_nested_repetition(pattern: str) -> bool:
    """True when a group containing ``*``, ``+`` or ``{n,m}`` is itself repeated."""
    groups: list[bool] = []  # per open group: does it contain a repetition?
    closed_group_repeats = False  # the atom just before: a group that contained one
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            closed_group_repeats = False
            continue
        if char == "[":
            index = _end_of_class(pattern, index)
            closed_group_repeats = False
            continue
        if char == "(":
            groups.append(False)
        elif char == ")" and groups:
            inner = groups.pop()
            if inner and groups:
                groups[-1] = True
            closed_group_repeats = inner
            index += 1
            continue
        elif _repeats(pattern, index):
            if closed_group_repeats:
                return True
            if groups:
                groups[-1] = True
        closed_group_repeats = False
        index += 1
    return False


def _repeats(pattern: str, index: int) -> bool:
    """A ``*``, ``+`` or a counted repetition allowing more than one at ``index``."""
    char = pattern[index]
    if char in "*+":
        return index == 0 or pattern[index - 1] not in "*+?}"  # a lazy or possessive suffix
    if char == "{":
        counted = _COUNTED.match(pattern, index)
        return bool(counted and (counted.group(2) is not None or int(counted.group(1) or 0) > 1))
    return False


def _end_of_class(pattern: str, start: int) -> int:
    """The index just after the character class ``[...]`` opening at ``start``."""
    index = start + 1
    if index < len(pattern) and pattern[index] == "^":
        index += 1
    if index < len(pattern) and pattern[index] == "]":
        index += 1  # a literal ] first in the class
    while index < len(pattern) and pattern[index] != "]":
        index += 2 if pattern[index] == "\\" else 1
    return index + 1
