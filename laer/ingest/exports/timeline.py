"""Subscription item versions from observations of a subscription.

Stripe keeps one subscription item (``si_…``) while its price, quantity or discount
changes; the landing contract wants one item per price period: a change ends the item
version at that instant and starts the next one (landing.md, billing). Each observation of
a subscription — an event's ``data.object`` as it stood at ``created``, or a snapshot —
says what each item is from that instant on: a list of :class:`Segment` (a repeating
coupon that ends, a paused collection that resumes, split the future into segments).
:func:`reconcile` turns that into changes of the versions known so far: the running version
continues when nothing changed, else it ends at the instant and a new version starts;
versions planned for the future that the observation no longer foresees are withdrawn (they
end where they start, so they count on no day). A version's id is ``<item>@<epoch seconds
of its start>``, so the same observation always makes the same rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

EPOCH = dt.datetime(1970, 1, 1)


@dataclass(frozen=True)
class Segment:
    start: dt.datetime
    end: dt.datetime | None  # None: open
    plan_id: str
    quantity: int
    discount_percent: Decimal

    @property
    def terms(self) -> tuple[str, int, Decimal]:
        return self.plan_id, self.quantity, self.discount_percent


@dataclass
class Version:
    id: str
    item: str
    subscription_id: str
    plan_id: str
    quantity: int
    discount_percent: Decimal
    started_at: dt.datetime
    ended_at: dt.datetime | None

    @property
    def terms(self) -> tuple[str, int, Decimal]:
        return self.plan_id, self.quantity, self.discount_percent

    @property
    def withdrawn(self) -> bool:
        return self.ended_at is not None and self.ended_at <= self.started_at


def version_id(item: str, start: dt.datetime) -> str:
    return f"{item}@{int((start - EPOCH).total_seconds())}"


def item_of(version: str) -> str:
    return version.rsplit("@", 1)[0]


def merge(segments: list[Segment]) -> list[Segment]:
    """Adjacent segments with the same terms become one."""
    out: list[Segment] = []
    for s in sorted(segments, key=lambda s: s.start):
        if out and out[-1].end == s.start and out[-1].terms == s.terms:
            out[-1] = Segment(out[-1].start, s.end, *s.terms)
        else:
            out.append(s)
    return out


def reconcile(versions: list[Version], desired: list[Segment], at: dt.datetime,
              item: str, subscription_id: str) -> list[Version]:
    """Apply an observation at ``at`` (the item's ``desired`` segments from ``at`` on, empty
    when the item is gone) to the item's ``versions``, in place; returns the versions that
    changed or were created."""
    todo = list(desired)
    changed: list[Version] = []
    for v in versions:
        if v.withdrawn or (v.ended_at is not None and v.ended_at <= at):
            continue  # history before the observation stays as it was
        if v.started_at < at:  # running at the instant
            first = todo[0] if todo and todo[0].start <= at else None
            if first is not None and first.terms == v.terms:
                todo.pop(0)
                if v.ended_at != first.end:
                    v.ended_at = first.end
                    changed.append(v)
            else:
                v.ended_at = at
                changed.append(v)
            continue
        match = next((s for s in todo if s.start == v.started_at and s.terms == v.terms), None)
        if match is not None:  # a planned version the observation still foresees
            todo.remove(match)
            if v.ended_at != match.end:
                v.ended_at = match.end
                changed.append(v)
        else:
            v.ended_at = v.started_at
            changed.append(v)
    by_id = {v.id: v for v in versions}
    for s in todo:
        start = max(s.start, at) if versions else s.start
        vid = version_id(item, start)
        v = by_id.get(vid)
        if v is None:
            v = Version(vid, item, subscription_id, *s.terms, start, s.end)
            versions.append(v)
            by_id[vid] = v
        else:  # a withdrawn version starting at the same instant comes back with these terms
            v.plan_id, v.quantity, v.discount_percent, v.ended_at = *s.terms, s.end
        if v not in changed:
            changed.append(v)
    return changed
