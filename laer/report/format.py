"""Numbers for people: $1.2M, 4.3 %, 1.8x, 7.5 mo."""

from __future__ import annotations

import math


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def money(v: object) -> str:
    if _missing(v):
        return "–"
    x = float(v)  # type: ignore[arg-type]
    sign = "−" if x < 0 else ""
    x = abs(x)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{sign}${x / div:.1f}{suffix}"
    return f"{sign}${x:,.0f}"


def pct(v: object) -> str:
    return "–" if _missing(v) else f"{float(v) * 100:.1f} %"  # type: ignore[arg-type]


def ratio(v: object) -> str:
    return "–" if _missing(v) else f"{float(v):.2f}×"  # type: ignore[arg-type]


def months(v: object) -> str:
    return "–" if _missing(v) else f"{float(v):.1f} mo"  # type: ignore[arg-type]


def count(v: object) -> str:
    return "–" if _missing(v) else f"{int(v):,}"  # type: ignore[call-overload]


def score(v: object) -> str:
    """A score that may be negative (NPS: −100 to 100)."""
    if _missing(v):
        return "–"
    x = round(float(v))  # type: ignore[arg-type]
    return f"{x:+d}" if x else "0"


def accounts(n: int) -> str:
    """'1 account', '12 accounts'."""
    return f"{n:,} account" + ("" if n == 1 else "s")


FORMATTERS = {"money": money, "pct": pct, "ratio": ratio, "months": months, "count": count, "score": score}


def change(cur: object, prev: object, kind: str) -> str:
    """Change for a KPI tile: relative for money, percentage points for rates."""
    if _missing(cur) or _missing(prev):
        return "–"
    c, p = float(cur), float(prev)  # type: ignore[arg-type]
    if kind == "money":
        return "–" if p == 0 else f"{(c - p) / abs(p) * 100:+.1f} %"
    if kind == "pct":
        return f"{(c - p) * 100:+.1f} pp"
    if kind == "score":
        return f"{c - p:+.0f}"
    return f"{c - p:+.2f}"
