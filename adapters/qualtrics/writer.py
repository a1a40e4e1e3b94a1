"""The Qualtrics writer: read-only but for `cem setup`, which subscribes this service to the
mapped surveys' completed-response events (docs/qualtrics.md "Events").

Subclassing `ReadOnlyWriter`, sync never pushes through it (nothing we learn is written back
to Qualtrics; it reaches the CRMs holding the same person). Only `provision` does anything:
one subscription per mapped survey, topic `surveyengine.completedResponse.{SurveyID}`, posted
to `PUBLICATION_URL`, signed with the connection's `WEBHOOK_SECRET` as the sharedKey; an
existing subscription of the same topic and URL is left alone, so it is safe to run twice.
"""

from __future__ import annotations

from adapters.qualtrics.client import QualtricsClient
from adapters.qualtrics.surveymap import SurveyMap
from service.ports import CrmConfigError, ProvisionReport, ReadOnlyWriter

TOPIC = "surveyengine.completedResponse.{survey_id}"


class QualtricsSubscriber(ReadOnlyWriter):
    """`provision` creates the event subscriptions; every other write is a no-op."""

    def __init__(self, client: QualtricsClient, surveys: list[SurveyMap]) -> None:
        super().__init__(client.name)
        self.client = client
        self.surveys = surveys

    def provision(self, *, dry_run: bool) -> ProvisionReport:
        settings = self.client.settings
        url = str(settings.publication_url) if settings.publication_url else None
        if url is None or settings.webhook_secret is None:
            raise CrmConfigError(
                f"connection {self.connection}: set PUBLICATION_URL (this service's "
                "/v1/webhooks/qualtrics) and WEBHOOK_SECRET (the subscription's sharedKey)",
                connection=self.connection,
            )
        have = {(s.get("topics"), s.get("publicationUrl")) for s in self.client.subscriptions()}
        existing: list[str] = []
        created: list[str] = []
        for smap in self.surveys:
            topic = TOPIC.format(survey_id=smap.survey_id)
            name = f"event subscription {topic}"
            if (topic, url) in have:
                existing.append(name)
                continue
            if not dry_run:
                self.client.subscribe(
                    {
                        "topics": topic,
                        "publicationUrl": url,
                        "encrypt": False,
                        "sharedKey": settings.webhook_secret.get_secret_value(),
                    }
                )
            created.append(name)
        return ProvisionReport(existing=tuple(existing), created=tuple(created), dry_run=dry_run)
