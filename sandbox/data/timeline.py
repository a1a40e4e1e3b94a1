"""A person's timeline while it is being drawn: the records so far and the tools to add more.

:class:`Timeline` holds one person's records and everything needed to write them (their
:class:`Subject`, their own random generator, the composer of their language); the modules that
draw a kind of history (``commerce``, ``support``, ``feedback``, ``history``) add to it. At the
end the records are put in ``history_key`` order — time, then type, then id — which the file
reader reproduces, so a dataset read back from disk equals the stream.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sandbox.data.experience import Profile, pick_polarity
from sandbox.data.markets import format_money, to_currency
from sandbox.data.model import (
    Case,
    Channel,
    Company,
    Direction,
    Interaction,
    Person,
    SurveyAnswer,
    Transaction,
)
from sandbox.data.resources import Product, catalog
from sandbox.data.seeding import Choice
from sandbox.data.text import Composer, Polarity, Slots, pick_aspects, product_in_sentence

History = Case | Interaction | SurveyAnswer | Transaction
_RANK: dict[type, int] = {Transaction: 0, Case: 1, Interaction: 2, SurveyAnswer: 3}
_YEAR = 365.0
_MAX_EVENTS = 80  # caps the rare extreme buyer so one person never dominates a dataset


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
    season: tuple[float, ...]
    rating_style: float
    buys_b2b: bool
    start: datetime
    end: datetime


class Timeline:
    """One person's records being drawn; all randomness from the person's own ``rng``."""

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

    def next_id(self, prefix: str) -> str:
        """A provisional id for a new record (see ``in_order``)."""
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
        """The polarity of a message the person writes at ``when``."""
        return pick_polarity(self.s.profile.mood_at(when), self.rng)

    def interaction(
        self, when: datetime, channel: Channel, direction: Direction, subject: str, text: str
    ) -> None:
        """Add an interaction on the person's timeline, owned by their account owner."""
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
        self,
        per_year: float,
        until: datetime,
        since: datetime | None = None,
        season: tuple[float, ...] | None = None,
    ) -> list[datetime]:
        """Moments of a Poisson process with ``per_year`` events on average, from ``since``
        (default: the start of the person's history) to ``until``.

        With a ``season`` (twelve monthly factors) the rate follows the calendar: the process
        runs at the peak rate and each moment is kept with probability factor / peak.
        """
        out: list[datetime] = []
        if per_year <= 0:
            return out
        peak = max(season) if season else 1.0
        rate = per_year * peak / _YEAR
        rng = self.rng
        t = self.s.start if since is None else since
        while len(out) < _MAX_EVENTS:
            t += timedelta(days=rng.expovariate(rate))
            if t >= until:
                break
            if season is None or rng.random() * peak < season[t.month - 1]:
                out.append(t)
        return out

    def message(
        self, polarity: Polarity, slots: Slots, *, statement: bool = False
    ) -> tuple[str, str, str | None]:
        """A customer's message in ``polarity``, a subject line for it (both formatted) and the
        aspect it is about (``None`` for a practical request).

        Half of the neutral messages that are not verdicts are practical requests ("please
        send invoice 4521"), which get a request subject instead of an aspect one.
        """
        rng, text = self.rng, self.text
        aspect: str | None = None
        if polarity == "neutral" and not statement and rng.random() < 0.5:
            body, subject = text.request(rng)
        else:
            aspect, other = pick_aspects(self.s.profile.aspects, rng)
            body = text.body(polarity, aspect, other, rng, statement=statement)
            subject = text.subject(aspect, polarity, rng)
        return slots.fill(body), slots.fill(subject), aspect

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
