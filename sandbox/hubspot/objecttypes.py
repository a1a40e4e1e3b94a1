"""The CRM object types the emulator serves and what differs between them.

Type ids follow docs/crm-api-facts.md §3.2 (``0-1`` contacts ... ``0-49`` emails; the ids beyond
0-1/0-2/0-3/0-5 are marked unverified there). ``feedback_submissions`` is read-only through the
public API, as on real HubSpot: survey answers arrive from HubSpot's own surveys, so the sandbox
fills them only by loading data.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.hubspot.errors import HubSpotError

ENGAGEMENTS = ("notes", "emails", "calls", "meetings", "tasks")


@dataclass(frozen=True, slots=True)
class ObjectType:
    """One CRM object type: names, system property names and write rules."""

    name: str
    type_id: str
    singular: str
    default_properties: tuple[str, ...]
    created_property: str = "hs_createdate"
    modified_property: str = "hs_lastmodifieddate"
    required: tuple[str, ...] = ()
    writable: bool = True
    scope: str = ""

    def read_scope(self) -> str:
        """The OAuth scope a token needs to read this type."""
        return f"{self.scope}.read" if self.scope.startswith("crm.") else self.scope

    def write_scope(self) -> str:
        """The OAuth scope a token needs to write this type."""
        return f"{self.scope}.write" if self.scope.startswith("crm.") else self.scope


def _t(
    name: str, type_id: str, singular: str, defaults: tuple[str, ...], **kw: object
) -> ObjectType:
    return ObjectType(name, type_id, singular, defaults, **kw)  # type: ignore[arg-type]


_ENGAGEMENT_DEFAULTS = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")
# Engagements have no scope of their own: HubSpot checks the contacts scopes for them
# (unverified; the docs list crm.objects.contacts.* on the engagement endpoints).
_CONTACT_SCOPE = "crm.objects.contacts"

OBJECT_TYPES: dict[str, ObjectType] = {
    t.name: t
    for t in (
        _t(
            "contacts",
            "0-1",
            "contact",
            ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
            created_property="createdate",
            modified_property="lastmodifieddate",
            scope=_CONTACT_SCOPE,
        ),
        _t(
            "companies",
            "0-2",
            "company",
            ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
            created_property="createdate",
            scope="crm.objects.companies",
        ),
        _t(
            "deals",
            "0-3",
            "deal",
            (
                "amount",
                "closedate",
                "createdate",
                "dealname",
                "dealstage",
                "hs_lastmodifieddate",
                "hs_object_id",
                "pipeline",
            ),
            created_property="createdate",
            scope="crm.objects.deals",
        ),
        # Tickets need a pipeline stage (docs/crm-api-facts.md §6 "Validation"); the pipeline
        # defaults to the support pipeline "0" (§3.3).
        _t(
            "tickets",
            "0-5",
            "ticket",
            (
                "content",
                "createdate",
                "hs_lastmodifieddate",
                "hs_object_id",
                "hs_pipeline",
                "hs_pipeline_stage",
                "hs_ticket_category",
                "hs_ticket_priority",
                "subject",
            ),
            created_property="createdate",
            required=("hs_pipeline_stage",),
            scope="tickets",
        ),
        _t(
            "line_items",
            "0-8",
            "line_item",
            ("createdate", "hs_lastmodifieddate", "hs_object_id", "name", "price", "quantity"),
            created_property="createdate",
            scope="crm.objects.line_items",
        ),
        # Every engagement requires hs_timestamp (docs/crm-api-facts.md §3.7; for tasks the due
        # date).
        *(
            _t(
                name,
                type_id,
                name[:-1],
                _ENGAGEMENT_DEFAULTS,
                required=("hs_timestamp",),
                scope=_CONTACT_SCOPE,
            )
            for name, type_id in (
                ("notes", "0-46"),
                ("meetings", "0-47"),
                ("calls", "0-48"),
                ("emails", "0-49"),
                ("tasks", "0-27"),
            )
        ),
        _t(
            "feedback_submissions",
            "0-19",
            "feedback_submission",
            _ENGAGEMENT_DEFAULTS,
            writable=False,
            scope="crm.objects.feedback_submissions",
        ),
    )
}

_BY_ALIAS: dict[str, ObjectType] = {}
for _type in OBJECT_TYPES.values():
    # The API takes a type by plural name, by singular name or by id ("contacts", "contact", "0-1").
    for _alias in (_type.name, _type.singular, _type.type_id):
        _BY_ALIAS[_alias] = _type


def object_type(name: str) -> ObjectType:
    """The object type called ``name`` (plural, singular or ``0-n`` id); 400 when unknown."""
    found = _BY_ALIAS.get(name.lower())
    if found is None:
        raise HubSpotError(
            400,
            "VALIDATION_ERROR",
            f"Unable to infer object type from: {name}",
        )
    return found
