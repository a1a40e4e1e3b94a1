"""Support cases: a problem or request, staff replies, the customer's follow-up, resolution."""

from __future__ import annotations

from datetime import datetime, timedelta

from sandbox.data.feedback import survey
from sandbox.data.model import Case, CaseComment, CasePriority, CaseStatus
from sandbox.data.seeding import Choice
from sandbox.data.timeline import Timeline

_PRIORITY_NEGATIVE: Choice[CasePriority] = Choice(("low", "medium", "high"), (10, 50, 40))
_PRIORITY_NEUTRAL: Choice[CasePriority] = Choice(("low", "medium", "high"), (50, 45, 5))


def case(t: Timeline, when: datetime) -> None:
    """A case opened at ``when``; most are resolved and some followed by a CES survey."""
    rng, s, text = t.rng, t.s, t.text
    when = t.local(when)
    polarity = t.mood_polarity(when)
    # Cases are problems or requests: praise becomes a question, mixed keeps its complaint.
    polarity = "neutral" if polarity == "positive" else polarity
    slots = t.slots()
    description, subject, aspect = t.message(polarity, slots)
    negative = polarity != "neutral"
    priority = (_PRIORITY_NEGATIVE if negative else _PRIORITY_NEUTRAL)(rng)
    comments: list[CaseComment] = []
    at = when + timedelta(minutes=rng.randint(30, 2880 if negative else 1440))
    reply = text.staff("reply", rng)
    if negative and rng.random() < 0.6:
        reply = f"{text.staff('apology', rng)} {reply}"
    comments.append(CaseComment(slots.fill(reply), at, False))
    mood = s.profile.mood_at(when)
    if rng.random() < 0.6:
        at += timedelta(minutes=rng.randint(120, 5760))
        kind = "comment_customer_positive" if rng.random() < mood else "comment_customer_negative"
        comments.append(CaseComment(text.staff(kind, rng), at, True))
    closed_at: datetime | None = None
    status: CaseStatus
    if rng.random() < 0.9:
        at += timedelta(minutes=rng.randint(60, 14400))
        # A complaint is resolved (refund, replacement, correction); a request is answered.
        closing = text.resolution(aspect, rng) if negative else text.staff("answer", rng)
        comments.append(CaseComment(slots.fill(closing), at, False))
        closed_at = at
        status = "closed"
    else:
        status = rng.choice(("new", "working", "escalated" if negative else "working"))
    if closed_at is not None and closed_at >= s.end:
        # Still being worked on when the window ends: keep only what already happened.
        closed_at, status = None, "working"
    kept = tuple(c for c in comments if c.at < s.end)
    t.records.append(
        Case(
            id=t.next_id("k"),
            person_id=s.person.id,
            company_id=s.company.id,
            subject=subject,
            description=description,
            status=status,
            priority=priority,
            opened_at=when,
            closed_at=closed_at,
            comments=kept,
        )
    )
    if closed_at is not None and rng.random() < 0.4:
        survey(t, "ces", "support", closed_at + timedelta(days=1))
