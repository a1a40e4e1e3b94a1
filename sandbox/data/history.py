"""One person's contact history over the window: what they bought, wrote, asked and answered.

Everything is driven by the person's hidden :class:`~sandbox.data.experience.Profile`: orders
stop when they churn, their mood decides the polarity of each message and each survey score,
unhappy people open more cases, and reviews and surveys follow orders and cases as they do in
real shops. The history is returned in a fixed order (``history_key``: time, then type, then
id) that the file reader reproduces, so a dataset read back from disk equals the stream.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sandbox.data.experience import Profile, pick_polarity, score_polarity, survey_score
from sandbox.data.markets import format_money, to_currency
from sandbox.data.model import (
    Case,
    CaseComment,
    CasePriority,
    CaseStatus,
    Channel,
    Company,
    Direction,
    Interaction,
    LineItem,
    Person,
    SurveyAnswer,
    SurveyKind,
    Transaction,
    TransactionStatus,
)
from sandbox.data.resources import Product, catalog
from sandbox.data.seeding import Choice
from sandbox.data.text import Composer, Polarity, Slots, pick_aspects, product_in_sentence

History = Case | Interaction | SurveyAnswer | Transaction
_RANK: dict[type, int] = {Transaction: 0, Case: 1, Interaction: 2, SurveyAnswer: 3}
_LINE_COUNT = Choice((1, 2, 3, 4), (50, 30, 15, 5))
_RETAIL_QUANTITY = Choice((1, 2, 3), (75, 18, 7))
_PACKAGE_COUNT = Choice((1, 2, 3), (55, 35, 10))
_OPPORTUNITY_COUNT = Choice((0, 1, 2, 3), (25, 35, 28, 12))
_PRIORITY_NEGATIVE: Choice[CasePriority] = Choice(("low", "medium", "high"), (10, 50, 40))
_PRIORITY_NEUTRAL: Choice[CasePriority] = Choice(("low", "medium", "high"), (50, 45, 5))
_YEAR = 365.0
_MAX_ORDERS = 80  # caps the rare extreme buyer so one person never dominates a dataset


def history_key(record: History) -> tuple[datetime, int, str]:
    """The order of a person's history: by time, then record type, then id."""
    when = record.opened_at if isinstance(record, Case) else record.occurred_at
    return when, _RANK[type(record)], record.id


@dataclass(frozen=True, slots=True)
class Subject:
    """Everything about one person that their history depends on."""

    person: Person
    company: Company
    owner_name: str
    customer_name: str
    profile: Profile
    currency: str
    channel: Choice[Channel]
    buys_b2b: bool
    start: datetime
    end: datetime


class _Writer:
    """Accumulates one person's records; all randomness from the person's own ``rng``."""

    def __init__(self, subject: Subject, rng: random.Random, composer: Composer) -> None:
        self.s = subject
        self.rng = rng
        self.text = composer
        self.tz = ZoneInfo(subject.person.timezone)
        self.records: list[History] = []
        self.counters = {"t": 0, "i": 0, "k": 0, "s": 0}
        self.number = subject.person.id[1:]
        self.products, self.packages = catalog()
        self.last_product: Product | None = None

    # --- helpers ---------------------------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        self.counters[prefix] += 1
        return f"{prefix}{self.number}-{self.counters[prefix]:03d}"

    def local(self, when: datetime, first_hour: int = 8, last_hour: int = 21) -> datetime:
        """``when``'s day at a random time of day in the person's own time zone, in UTC."""
        rng = self.rng
        second = rng.randrange(first_hour * 3600, (last_hour + 1) * 3600)
        hour, rest = divmod(second, 3600)
        day = when.astimezone(self.tz)
        moment = day.replace(hour=hour, minute=rest // 60, second=rest % 60, microsecond=0)
        moment = moment.astimezone(UTC)
        # The local day may straddle the window's edges; keep every record inside the window.
        if moment >= self.s.end:
            moment = self.s.end - timedelta(seconds=rng.randint(60, 7200))
        elif moment < self.s.start:
            moment = self.s.start.replace(microsecond=0) + timedelta(seconds=rng.randint(60, 7200))
        return moment

    def slots(self, *, staff_writes: bool = False) -> Slots:
        """Slot values for one text; ``staff_writes`` swaps who greets and who signs."""
        rng, s = self.rng, self.s
        language = s.person.language

        def product() -> Product:
            return self.last_product or rng.choice(self.products)

        def amount() -> str:
            price = to_currency(Decimal(product().usd), s.currency)
            return format_money(price, s.currency, language)

        greeted, signer = s.owner_name, s.customer_name
        if staff_writes:
            greeted, signer = signer, greeted
        return Slots(
            {
                "order": lambda: str(rng.randint(100000, 999999)),
                "invoice": lambda: str(rng.randint(1000, 99999)),
                "ticket": lambda: f"#{rng.randint(10000, 99999)}",
                "days": lambda: str(rng.randint(2, 9)),
                "product": lambda: product_in_sentence(product().names[language]),
                "amount": amount,
            },
            {"owner": greeted, "first_name": signer, "company": s.company.name},
        )

    def mood_polarity(self, when: datetime) -> Polarity:
        return pick_polarity(self.s.profile.mood_at(when), self.rng)

    def interaction(
        self, when: datetime, channel: Channel, direction: Direction, subject: str, text: str
    ) -> None:
        s = self.s
        self.records.append(
            Interaction(
                id=self.next_id("i"),
                person_id=s.person.id,
                company_id=s.company.id,
                channel=channel,
                direction=direction,
                subject=subject,
                text=text,
                language=s.person.language,
                occurred_at=when,
                owner_id=s.company.owner_id,
            )
        )

    def times(
        self, per_year: float, until: datetime, since: datetime | None = None
    ) -> list[datetime]:
        """Moments of a Poisson process with ``per_year`` events from ``since`` (default: the
        start of the person's history) to ``until``."""
        out: list[datetime] = []
        if per_year <= 0:
            return out
        t = self.s.start if since is None else since
        while len(out) < _MAX_ORDERS:
            t += timedelta(days=self.rng.expovariate(per_year / _YEAR))
            if t >= until:
                break
            out.append(t)
        return out

    # --- transactions ----------------------------------------------------------------------
    def order(self, when: datetime) -> None:
        rng, s = self.rng, self.s
        count = _LINE_COUNT(rng)
        chosen = rng.sample(self.products, count)
        lines = tuple(
            LineItem(
                p.names[s.person.language],
                rng.randint(1, 12) if s.buys_b2b else _RETAIL_QUANTITY(rng),
                to_currency(Decimal(p.usd), s.currency),
            )
            for p in chosen
        )
        self.last_product = chosen[0]
        when = self.local(when)
        self.transaction("order", "won", when, lines)
        if rng.random() < 0.22:
            self.review(when + timedelta(days=rng.randint(3, 14)))
        if rng.random() < 0.3:
            touchpoint = rng.choice(("delivery", "purchase"))
            self.survey("csat", touchpoint, when + timedelta(days=rng.randint(2, 7)))

    def opportunity(self, when: datetime) -> None:
        rng, s = self.rng, self.s
        chosen = rng.sample(self.packages, _PACKAGE_COUNT(rng))
        lines = tuple(
            LineItem(
                p.names[s.person.language],
                rng.randint(1, 3),
                to_currency(Decimal(p.usd), s.currency),
            )
            for p in chosen
        )
        status: TransactionStatus
        churned = s.profile.churned_at
        if when > s.end - timedelta(days=60):
            status = "open"
        elif churned is not None and when > churned:
            status = "lost"
        else:
            won = rng.random() < 0.3 + 0.45 * s.profile.mood_at(when)
            status = "won" if won else "lost"
        self.transaction("opportunity", status, self.local(when, 9, 17), lines)

    def transaction(
        self, kind: str, status: TransactionStatus, when: datetime, lines: tuple[LineItem, ...]
    ) -> None:
        s = self.s
        amount = sum((line.unit_price * line.quantity for line in lines), Decimal(0))
        self.records.append(
            Transaction(
                id=self.next_id("t"),
                person_id=s.person.id,
                company_id=s.company.id,
                kind="order" if kind == "order" else "opportunity",
                amount=amount,
                currency=s.currency,
                status=status,
                occurred_at=when,
                lines=lines,
            )
        )

    # --- messages --------------------------------------------------------------------------
    def message(
        self, polarity: Polarity, slots: Slots, *, statement: bool = False
    ) -> tuple[str, str]:
        """A customer's message in ``polarity`` and a subject line for it (both formatted).

        Half of the neutral messages that are not verdicts are practical requests ("please
        send invoice 4521"), which get a request subject instead of an aspect one.
        """
        rng, text = self.rng, self.text
        if polarity == "neutral" and not statement and rng.random() < 0.5:
            body, subject = text.request(rng)
        else:
            aspect, other = pick_aspects(self.s.profile.aspects, rng)
            body = text.body(polarity, aspect, other, rng, statement=statement)
            subject = text.subject(aspect, polarity, rng)
        return slots.fill(body), slots.fill(subject)

    def review(self, when: datetime) -> None:
        if when >= self.s.end:
            return
        when = self.local(when)
        polarity = self.mood_polarity(when)
        slots = self.slots()
        body, _ = self.message(polarity, slots, statement=True)
        title = self.text.review_title(polarity, self.rng)
        self.interaction(when, "review", "inbound", title, body)

    def contact(self, when: datetime) -> None:
        """One touch on a channel the person's market prefers."""
        rng, text = self.rng, self.text
        channel = self.s.channel(rng)
        if channel == "review":
            self.review(when)
            return
        when = self.local(when)
        if channel == "note":
            note = text.staff("note", rng)
            self.interaction(when, "note", "outbound", note, note)
            return
        inbound = (
            rng.random() < {"email": 0.65, "chat": 0.85, "call": 0.55, "meeting": 0.0}[channel]
        )
        if not inbound and channel in ("email", "chat"):
            self.staff_message(when, channel, "follow_up")
            return
        polarity = self.mood_polarity(when)
        slots = self.slots()
        body, subject = self.message(polarity, slots)
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
        self.interaction(when, channel, direction, subject, content)

    def staff_message(self, when: datetime, channel: Channel, kind: str) -> None:
        """A message from the owner to the customer, in the customer's language."""
        rng, text = self.rng, self.text
        slots = self.slots()
        body = slots.fill(text.staff(kind, rng))
        subject = slots.fill(text.staff(f"{kind}_subject", rng))
        if channel == "email":
            greeting, signoff = text.letter_frame(rng)
            swapped = self.slots(staff_writes=True)
            body = f"{swapped.fill(greeting)}\n\n{body}\n\n{swapped.fill(signoff)}"
        self.interaction(when, channel, "outbound", subject, body)

    # --- cases and surveys -----------------------------------------------------------------
    def case(self, when: datetime) -> None:
        rng, s, text = self.rng, self.s, self.text
        when = self.local(when)
        polarity = self.mood_polarity(when)
        # Cases are problems or requests: praise becomes a question, mixed keeps its complaint.
        polarity = "neutral" if polarity == "positive" else polarity
        slots = self.slots()
        description, subject = self.message(polarity, slots)
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
            kind = (
                "comment_customer_positive" if rng.random() < mood else "comment_customer_negative"
            )
            comments.append(CaseComment(text.staff(kind, rng), at, True))
        closed_at: datetime | None = None
        status: CaseStatus
        if rng.random() < 0.9:
            at += timedelta(minutes=rng.randint(60, 14400))
            comments.append(CaseComment(slots.fill(text.staff("resolution", rng)), at, False))
            closed_at = at
            status = "closed"
        else:
            status = rng.choice(("new", "working", "escalated" if negative else "working"))
        if closed_at is not None and closed_at >= s.end:
            # Still being worked on when the window ends: keep only what already happened.
            closed_at, status = None, "working"
        kept = tuple(c for c in comments if c.at < s.end)
        self.records.append(
            Case(
                id=self.next_id("k"),
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
            self.survey("ces", "support", closed_at + timedelta(days=1))

    def survey(self, kind: SurveyKind, touchpoint: str, when: datetime) -> None:
        rng, s = self.rng, self.s
        if when >= s.end:
            return
        when = self.local(when)
        score = survey_score(kind, s.profile.mood_at(when), rng)
        comment = ""
        if rng.random() < 0.55:
            polarity = score_polarity(kind, score)
            aspect, other = pick_aspects(s.profile.aspects, rng)
            if polarity == "mixed":
                template = self.text.contrast(other, aspect, rng)
            else:
                template = self.text.sentence(
                    "overall" if polarity == "neutral" else aspect, polarity, rng
                )
            comment = self.slots().fill(template)
        self.records.append(
            SurveyAnswer(
                id=self.next_id("s"),
                person_id=s.person.id,
                kind=kind,
                score=score,
                comment=comment,
                language=s.person.language,
                touchpoint=touchpoint,
                occurred_at=when,
            )
        )

    # --- the whole history -----------------------------------------------------------------
    def write(self) -> list[History]:
        rng, s, profile = self.rng, self.s, self.s.profile
        churned = profile.churned_at
        buying_until = churned or s.end
        if s.person.created_at >= s.start:  # joined during the window: a welcome e-mail
            self.staff_message(
                self.local(s.start + timedelta(days=rng.randint(1, 5))), "email", "welcome"
            )
        if s.person.is_lead:
            # A lead has not bought yet: a few conversations and nothing else.
            for when in self.times(1.5, s.end):
                self.contact(when)
            return self.in_order()
        for when in self.times(profile.orders_per_year, buying_until):
            self.order(when)
        if s.buys_b2b:
            for _ in range(_OPPORTUNITY_COUNT(rng)):
                self.opportunity(s.start + (s.end - s.start) * rng.random())
        mood = profile.experience
        for when in self.times(2.0 + 2.0 * (1.0 - mood), buying_until):
            self.contact(when)
        if churned is not None:
            # After leaving, people go quiet: the odd message, and our attempt to win them back.
            for when in self.times(0.4, s.end, since=churned):
                self.contact(when)
            if rng.random() < 0.6:
                back = churned + timedelta(days=rng.randint(30, 90))
                if back < s.end:
                    self.staff_message(self.local(back, 9, 17), "email", "winback")
        for when in self.times(0.2 + 1.3 * (1.0 - mood), buying_until):
            self.case(when)
        when = s.start + timedelta(days=rng.uniform(60, 180))
        while when < buying_until:
            if rng.random() < 0.45:
                self.survey("nps", "relationship", when)
            when += timedelta(days=rng.uniform(150, 210))
        return self.in_order()

    def in_order(self) -> list[History]:
        """The records sorted by ``history_key``, renumbered so ids follow time per type.

        Records get provisional ids while they are drawn (a review is drawn with its order, but
        happens later); renumbering makes ``t…-001`` the first transaction, and so on.
        """
        self.records.sort(key=history_key)
        counters = dict.fromkeys(self.counters, 0)
        for record in self.records:
            prefix = record.id[0]
            counters[prefix] += 1
            # The records have not left this writer yet, so setting the id in place is safe; it
            # is several times cheaper than dataclasses.replace, and this runs for every record.
            object.__setattr__(record, "id", f"{prefix}{self.number}-{counters[prefix]:03d}")
        return self.records


def person_history(subject: Subject, rng: random.Random, composer: Composer) -> list[History]:
    """The person's history records in ``history_key`` order."""
    return _Writer(subject, rng, composer).write()
