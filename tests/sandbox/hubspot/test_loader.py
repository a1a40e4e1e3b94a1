"""Loading the generator's record stream: mapping, associations, id map, and the HTML view."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import requests
from hubspot import HubSpot

from sandbox.data.generate import generate
from sandbox.data.model import (
    Case,
    CaseComment,
    Company,
    Interaction,
    LineItem,
    Owner,
    Person,
    Record,
    SurveyAnswer,
    Transaction,
)
from tests.sandbox.hubspot.conftest import Served

AT = datetime(2025, 6, 1, 8, 30, tzinfo=UTC)


def _history() -> list[Record]:
    return [
        Owner("o1", "Mai", "Tran", "mai.tran@example.com", "vi"),
        Company("c1", "Công ty Sao Mai", "saomai.vn", "VN", "Retail", "o1", AT, Decimal("1200000")),
        Person(
            "p1",
            "c1",
            "Hoa",
            "Nguyễn",
            "Hoa@SaoMai.vn",
            "+84 24 3936 0000",
            "vi",
            "VN",
            "Asia/Ho_Chi_Minh",
            "o1",
            AT,
            False,
        ),
        Transaction(
            "t1",
            "p1",
            "c1",
            "opportunity",
            Decimal("300.50"),
            "USD",
            "lost",
            AT,
            (LineItem("Tea set", 2, Decimal("150.25")),),
        ),
        Interaction(
            "i1",
            "p1",
            "c1",
            "chat",
            "inbound",
            "Giao hàng",
            "Giao hàng chậm quá.",
            "vi",
            AT + timedelta(days=1),
            "o1",
        ),
        Interaction(
            "i2",
            "p1",
            "c1",
            "call",
            "outbound",
            "Follow-up",
            "Called about the delay.",
            "en",
            AT + timedelta(days=2),
            "o1",
        ),
        Case(
            "k1",
            "p1",
            "c1",
            "Late delivery",
            "Order arrived a week late",
            "escalated",
            "high",
            AT,
            None,
            (CaseComment("Still waiting", AT + timedelta(hours=5), True),),
        ),
        SurveyAnswer("s1", "p1", "nps", 3, "Quá chậm", "vi", "delivery", AT + timedelta(days=3)),
    ]


def test_every_record_kind_lands_with_its_associations(hs: Served, client: HubSpot) -> None:
    report = hs.emu.load(_history(), all_ids=True)

    assert report.counts == Counter(
        owners=1,
        companies=1,
        contacts=1,
        deals=1,
        line_items=1,
        notes=2,
        calls=1,
        tickets=1,
        feedback_submissions=1,
    )
    contact_id = report.ids["p1"]
    contact = client.crm.contacts.basic_api.get_by_id(
        contact_id,
        properties=["email", "hs_timezone", "hubspot_owner_id", "lifecyclestage"],
        associations=["companies", "deals", "tickets", "notes", "calls"],
    )
    assert contact.properties == {
        "email": "hoa@saomai.vn",
        "hs_timezone": "asia_slash_ho_chi_minh",
        "hubspot_owner_id": report.ids["o1"],
        "lifecyclestage": "customer",
    }
    linked = {k: [r.id for r in v.results] for k, v in contact.associations.items()}
    assert linked["companies"] == [report.ids["c1"]]
    assert linked["deals"] == [report.ids["t1"]]
    assert linked["tickets"] == [report.ids["k1"]]
    assert len(linked["notes"]) == 2  # the chat transcript and the case comment
    assert linked["calls"] == [report.ids["i2"]]

    deal = client.crm.deals.basic_api.get_by_id(
        report.ids["t1"], properties=["dealstage", "amount"]
    )
    assert deal.properties == {"dealstage": "closedlost", "amount": "300.5"}
    ticket = client.crm.tickets.basic_api.get_by_id(
        report.ids["k1"], properties=["hs_pipeline_stage", "hs_ticket_priority"]
    )
    assert ticket.properties == {"hs_pipeline_stage": "3", "hs_ticket_priority": "HIGH"}
    answer = client.crm.objects.feedback_submissions.basic_api.get_by_id(
        report.ids["s1"], properties=["hs_value", "hs_response_group", "hs_content"]
    )
    assert answer.properties == {
        "hs_value": "3",
        "hs_response_group": "detractor",
        "hs_content": "Quá chậm",
    }
    owner = client.crm.owners.owners_api.get_by_id(int(report.ids["o1"]))
    assert owner.email == "mai.tran@example.com"


def test_generated_stream_loads_every_record(hs: Served) -> None:
    stream = list(generate(21, 30))
    report = hs.emu.load(iter(stream))
    kinds = Counter(type(r).__name__ for r in stream)
    assert report.counts["contacts"] == kinds["Person"]
    assert report.counts["companies"] == kinds["Company"]
    assert report.counts["owners"] == kinds["Owner"]
    assert report.counts["feedback_submissions"] == kinds["SurveyAnswer"]
    assert report.skipped == 0
    assert len(set(report.ids.values())) == len(report.ids)
    # Only what later records refer to is mapped by default.
    assert len(report.ids) == kinds["Owner"] + kinds["Company"] + kinds["Person"]


def test_html_view_lists_searches_and_shows_a_timeline(hs: Served) -> None:
    report = hs.emu.load(_history())
    view = f"{hs.url}/__sandbox/view"
    listing = requests.get(f"{view}/contacts", params={"q": "nguyễn"}, timeout=5)
    assert listing.status_code == 200
    assert "Hoa Nguyễn" in listing.text
    assert "1 match(es)" in listing.text
    assert "0 match(es)" in requests.get(f"{view}/contacts", params={"q": "nobody"}, timeout=5).text

    detail = requests.get(f"{view}/contacts/{report.ids['p1']}", timeout=5).text
    assert "Giao hàng chậm quá." in detail  # the chat note on the timeline
    assert "Called about the delay." in detail
    assert "Công ty Sao Mai" in detail  # related company link
    assert requests.get(f"{view}/contacts/999999", timeout=5).status_code == 404


def test_every_loaded_object_is_listed_through_the_generic_objects_api(
    hs: Served, client: HubSpot
) -> None:
    report = hs.emu.load(generate(8, 120))
    objects = client.crm.objects.basic_api
    for kind, count in report.counts.items():
        if kind == "owners":
            continue
        listed: list[str] = []
        after = None
        while True:
            page = objects.get_page(kind, limit=100, after=after)
            listed += [r.id for r in page.results]
            if page.paging is None:
                break
            after = page.paging.next.after
        assert len(listed) == len(set(listed)) == count, kind
