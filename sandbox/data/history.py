"""One person's contact history over the window: what they bought, wrote, asked and answered.

Everything is driven by the person's hidden :class:`~sandbox.data.experience.Profile`: orders
stop when they churn, their mood decides the polarity of each message and each survey score,
unhappy people open more cases, reviews and surveys follow orders and cases as they do in real
shops, and after churning people go quiet apart from the odd message and our win-back e-mail.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sandbox.data.commerce import opportunity, order
from sandbox.data.feedback import review, survey
from sandbox.data.model import Direction
from sandbox.data.seeding import Choice
from sandbox.data.support import case
from sandbox.data.text import Composer
from sandbox.data.timeline import History, Subject, Timeline

_OPPORTUNITY_COUNT = Choice((0, 1, 2, 3), (25, 35, 28, 12))
# How often the customer starts the conversation on each channel (meetings are booked by us).
_INBOUND_SHARE = {"email": 0.65, "chat": 0.85, "call": 0.55, "meeting": 0.0}


def contact(t: Timeline, when: datetime) -> None:
    """One touch on a channel the person's market prefers."""
    rng, text = t.rng, t.text
    channel = t.s.channel(rng)
    if channel == "review":
        review(t, when)
        return
    when = t.local(when)
    if channel == "note":
        note = text.staff("note", rng)
        t.interaction(when, "note", "outbound", note, note)
        return
    inbound = rng.random() < _INBOUND_SHARE[channel]
    if not inbound and channel in ("email", "chat"):
        t.staff_message(when, channel, "follow_up")
        return
    polarity = t.mood_polarity(when)
    slots = t.slots()
    body, subject, _ = t.message(polarity, slots)
    direction: Direction = "inbound" if inbound else "outbound"
    if channel == "email":
        content = slots.fill(text.email(body, rng))
    elif channel == "chat":
        content = text.chat(body, rng)
    elif channel == "call":
        content = slots.fill(text.staff("call_prefix", rng)) + body
    else:
        subject = text.staff("meeting_subject", rng)
        content = slots.fill(text.staff("meeting_prefix", rng)) + body
    t.interaction(when, channel, direction, subject, content)


def person_history(subject: Subject, rng: random.Random, composer: Composer) -> list[History]:
    """The person's history records in ``history_key`` order."""
    t = Timeline(subject, rng, composer)
    s, profile = t.s, t.s.profile
    churned = profile.churned_at
    buying_until = churned or s.end
    if s.person.created_at >= s.start:  # joined during the window: a welcome e-mail
        t.staff_message(t.local(s.start + timedelta(days=rng.randint(1, 5))), "email", "welcome")
    if s.person.is_lead:
        # A lead has not bought yet: a few conversations and nothing else.
        for when in t.times(1.5, s.end):
            contact(t, when)
        return t.in_order()
    for when in t.times(profile.orders_per_year, buying_until, season=s.season):
        order(t, when)
    if s.buys_b2b:
        for _ in range(_OPPORTUNITY_COUNT(rng)):
            opportunity(t, s.start + (s.end - s.start) * rng.random())
    mood = profile.experience
    for when in t.times(2.0 + 2.0 * (1.0 - mood), buying_until):
        contact(t, when)
    if churned is not None:
        # After leaving, people go quiet: the odd message, and our attempt to win them back.
        for when in t.times(0.4, s.end, since=churned):
            contact(t, when)
        if rng.random() < 0.6:
            back = churned + timedelta(days=rng.randint(30, 90))
            if back < s.end:
                t.staff_message(t.local(back, 9, 17), "email", "winback")
    for when in t.times(0.2 + 1.3 * (1.0 - mood), buying_until):
        case(t, when)
    when = s.start + timedelta(days=rng.uniform(60, 180))
    while when < buying_until:
        if rng.random() < 0.45:
            survey(t, "nps", "relationship", when)
        when += timedelta(days=rng.uniform(150, 210))
    return t.in_order()
