"""How node ids and formulas appear on a page (LaTeX for KaTeX)."""

from __future__ import annotations

import re

_NAME_WITH_INDEX = re.compile(r"^([A-Za-z]+)_?(\d+)$")


def latex_name(node_id: str, label: str | None = None) -> str:
    """`w0` → `w_{0}`, `add1` → `\\mathrm{add}_{1}`, `loss` → `\\mathrm{loss}`."""
    name = label if label and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", label) else node_id
    match = _NAME_WITH_INDEX.match(name)
    if match:
        base, index = match.groups()
        return f"{_latex_word(base)}_{{{index}}}"
    return _latex_word(name)


def _latex_word(word: str) -> str:
    if len(word) == 1:
        return word
    escaped = word.replace("_", r"\_")
    return rf"\mathrm{{{escaped}}}"
