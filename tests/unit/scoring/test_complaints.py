# ruff: noqa: RUF001  (CJK full-width punctuation is real Chinese text)
"""Every complaint is answered: the flag goes up without a churn model, each complaint topic gets
its own playbook (never the delivery one by default), praise raises nothing.

Real sentences come from the UCI Sentiment Labelled Sentences (Kotzias et al., KDD 2015;
CC BY 4.0), test buckets of `bench.sentiment.real_sets`, all labelled negative there, read by
the project lexicon as the service does with `backends={"*": ("lexicon",)}`. Billing, returns
and app complaints have no clean real example in the English sets: project-written sentences
cover them (an extra check, as docs/architecture.md §11 says).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.domain import (
    Channel,
    ChurnModelKind,
    ChurnSegment,
    ContractKind,
    Customer,
    Direction,
    Interaction,
    Owner,
)
from service.scoring.customer import score_customer
from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.settings import SentimentSettings
from tests.unit.scoring.builders import AS_OF, message, purchase


@pytest.fixture(scope="module")
def lexicon() -> SentimentAnalyzer:
    return SentimentAnalyzer(SentimentSettings(backends={"*": ("lexicon",)}))


def said(analyzer: SentimentAnalyzer, text: str, language: str | None = None) -> Interaction:
    signal = analyzer.signals_batch([(text, language)])[0].signal
    return Interaction(
        id="m1",
        customer_id="c1",
        channel=Channel.ZALO,
        direction=Direction.INBOUND,
        occurred_at=AS_OF - timedelta(minutes=5),
        text=text,
        sentiment=signal,
    )


def test_a_complaint_flags_a_customer_with_no_purchases_and_says_why() -> None:
    score = score_customer(
        Customer(id="c1"), AS_OF, interactions=[message(-0.8, aspects=("delivery",))]
    )
    flag = score.churn
    assert flag is not None
    assert flag.flagged
    assert flag.probability is None
    assert flag.model is ChurnModelKind.COMPLAINT
    assert flag.segment is ChurnSegment.NO_PURCHASE
    assert [d.name for d in flag.drivers] == ["recent_complaint", "no_churn_estimate"]
    assert flag.drivers[0].text.endswith("a negative chat about delivery")
    assert flag.drivers[1].text == "No churn estimate: no purchases yet"
    assert [t.playbook for t in score.actions.tasks] == ["delivery_apology"]


def test_other_customers_without_an_estimate_are_flagged_with_their_own_reason() -> None:
    complaint = [message(-0.6)]
    buyer = score_customer(
        Customer(id="c1"), AS_OF, interactions=complaint, transactions=[purchase(20)]
    )
    assert buyer.churn is not None
    assert buyer.churn.flagged
    assert buyer.churn.segment is ChurnSegment.ONE_TIME
    assert buyer.churn.drivers[-1].text == "No churn estimate: no purchase model fitted yet"
    subscriber = Customer(
        id="c1", contract=ContractKind.SUBSCRIPTION, subscribed_at=AS_OF - timedelta(days=40)
    )
    sub = score_customer(subscriber, AS_OF, interactions=complaint)
    assert sub.churn is not None
    assert sub.churn.flagged
    assert sub.churn.drivers[-1].text == "No churn estimate: no survival curve fitted yet"


def test_praise_or_an_old_complaint_raises_nothing() -> None:
    for history in ([message(0.7)], [message(-0.8, days=20)], [message(-0.8, 3), message(0.6, 1)]):
        score = score_customer(Customer(id="c1"), AS_OF, interactions=history)
        assert score.churn is None
        assert score.actions.tasks == ()
        assert score.churn_note == "no purchase history: no churn estimate"


@pytest.mark.parametrize(
    ("text", "playbook"),
    [
        # Real UCI sentences, labelled negative.
        ("Customer service was terrible.", "service_recovery"),  # amazon
        ("How can that be?The audio quality is poor.", "quality_fix"),  # amazon
        (
            "We literally sat there for 20 minutes with no one asking to take our order.",
            "wait_time_callback",
        ),  # yelp
        ("And it was way to expensive.", "price_concern"),  # yelp
        ("When my order arrived, one of the gyros was missing.", "delivery_apology"),  # yelp
        ("What a waste of money and time!.", "complaint_callback"),  # amazon: no known aspect
        # Project-written: topics the English real sets hold no clean complaint about.
        ("I was double charged on my invoice and nobody fixed it.", "billing_check"),
        ("Still no refund three weeks after I returned the blender. Awful.", "refund_followup"),
        ("The app keeps crashing at checkout, terrible.", "app_issue_followup"),
        ("Hóa đơn tháng này tính tiền sai, rất bực mình.", "billing_check"),
        ("客服态度太差了，再也不来了。", "service_recovery"),
    ],
)
def test_each_topic_gets_its_own_playbook(
    lexicon: SentimentAnalyzer, text: str, playbook: str
) -> None:
    complaint = said(lexicon, text)
    score = score_customer(Customer(id="c1", owner_id="u1"), AS_OF, interactions=[complaint])
    assert score.churn is not None
    assert score.churn.flagged, complaint.sentiment
    assert [t.playbook for t in score.actions.tasks] == [playbook], complaint.sentiment


def test_a_chinese_salesforce_owner_gets_the_task_in_chinese(lexicon: SentimentAnalyzer) -> None:
    complaint = said(lexicon, "客服态度太差了，再也不来了。")
    for locale in ("zh_CN", "zh-TW", "zh_Hant_TW"):
        owner = Owner.model_construct(id="u1", language=locale, active=True)  # as stored
        score = score_customer(
            Customer(id="c1", owner_id="u1", display_name="王芳"),
            AS_OF,
            interactions=[complaint],
            owners={"u1": owner},
        )
        task = score.actions.tasks[0]
        assert task.language == "zh"
        assert task.subject == "就服务问题向王芳致歉"
