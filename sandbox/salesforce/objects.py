"""The standard objects cem-bridge reads and writes, plus the survey-response custom object.

Fields and default picklists follow docs/crm-api-facts.md §2.12. `Language__c` and `Time_Zone__c` on
Contact/Lead stand for the customisations a multilingual org typically has; the `Cx_*` fields
the push needs are *not* here: `cem setup salesforce` creates them through the Tooling API.
"""

from __future__ import annotations

from sandbox.salesforce.fields import FieldDef, FieldType
from sandbox.salesforce.schema import ObjectDef, Schema

F = FieldType
_USERS = ("User",)


def _ref(name: str, to: tuple[str, ...], rel: str, **kw: object) -> FieldDef:
    return FieldDef(name, F.REFERENCE, reference_to=to, relationship_name=rel, **kw)  # type: ignore[arg-type]


def _read_only(name: str, kind: FieldType, **kw: object) -> FieldDef:
    return FieldDef(name, kind, createable=False, updateable=False, **kw)  # type: ignore[arg-type]


def _system(owner: bool = True) -> list[FieldDef]:
    fields = [
        _read_only("Id", F.ID),
        _read_only("IsDeleted", F.BOOLEAN),
        _read_only("CreatedDate", F.DATETIME),
        _read_only("CreatedById", F.REFERENCE, reference_to=_USERS, relationship_name="CreatedBy"),
        _read_only("LastModifiedDate", F.DATETIME),
        _read_only(
            "LastModifiedById", F.REFERENCE, reference_to=_USERS, relationship_name="LastModifiedBy"
        ),
        _read_only("SystemModstamp", F.DATETIME),
    ]
    if owner:
        fields.append(_ref("OwnerId", _USERS, "Owner"))
    return fields


def _picklist(
    name: str, values: tuple[str, ...], default: str | None = None, required: bool = False
) -> FieldDef:
    return FieldDef(name, F.PICKLIST, picklist=values, default=default, required=required)


def _obj(
    name: str,
    prefix: str,
    fields: list[FieldDef],
    *,
    label: str | None = None,
    plural: str | None = None,
    owner: bool = True,
    custom: bool = False,
    name_field: str = "Name",
) -> ObjectDef:
    all_fields = _system(owner) + fields
    return ObjectDef(
        name=name,
        label=label or name,
        label_plural=plural or f"{label or name}s",
        key_prefix=prefix,
        fields={f.name.lower(): f for f in all_fields},
        custom=custom,
        name_field=name_field,
    )


_PERSON_NAME = [
    FieldDef("Salutation", F.PICKLIST, picklist=("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")),
    FieldDef("FirstName", F.STRING, length=40),
    FieldDef("LastName", F.STRING, length=80, required=True),
    _read_only("Name", F.STRING, length=121),
]
_LANGUAGE = [
    FieldDef("Language__c", F.STRING, length=10, custom=True, label="Language"),
    FieldDef("Time_Zone__c", F.STRING, length=60, custom=True, label="Time Zone"),
    # A Vietnamese shop's org keeps the customer's Zalo user id once they have chatted (a
    # string: the ids exceed 2^53); mapped as `refs.zalo` (mappings examples/zalo/).
    FieldDef("Zalo_User_Id__c", F.STRING, length=32, custom=True, label="Zalo User Id"),
]
_WHO = ("Contact", "Lead")
# Present in multi-currency orgs; the generated data mixes VND, CNY, EUR and USD.
_CURRENCY = _picklist("CurrencyIsoCode", ("USD", "EUR", "VND", "CNY", "GBP", "AUD"), "USD")
_WHAT = ("Account", "Opportunity", "Case", "Order", "Survey_Response__c")


def standard_schema() -> Schema:
    """A fresh schema (each emulator gets its own, so custom fields do not leak across tests)."""
    return Schema(
        [
            _obj(
                "User",
                "005",
                [
                    FieldDef("Username", F.STRING, length=80, required=True, unique=True),
                    *_PERSON_NAME[1:],
                    FieldDef("Email", F.EMAIL, required=True),
                    FieldDef("Alias", F.STRING, length=8),
                    FieldDef("IsActive", F.BOOLEAN, default=True),
                    FieldDef("LanguageLocaleKey", F.PICKLIST, default="en_US"),
                    FieldDef("TimeZoneSidKey", F.PICKLIST, default="GMT"),
                ],
                owner=False,
            ),
            _obj(
                "Account",
                "001",
                [
                    FieldDef("Name", F.STRING, required=True),
                    _picklist("Type", ("Prospect", "Customer - Direct", "Customer - Channel")),
                    FieldDef("Industry", F.PICKLIST),
                    FieldDef("Phone", F.PHONE),
                    FieldDef("Website", F.URL),
                    FieldDef("BillingCity", F.STRING, length=40),
                    FieldDef("BillingCountry", F.STRING, length=80),
                    FieldDef("AnnualRevenue", F.CURRENCY),
                    FieldDef("NumberOfEmployees", F.INT, precision=8),
                    FieldDef("Description", F.TEXTAREA),
                ],
            ),
            _obj(
                "Contact",
                "003",
                [
                    *_PERSON_NAME,
                    FieldDef("Email", F.EMAIL),
                    FieldDef("Phone", F.PHONE),
                    FieldDef("MobilePhone", F.PHONE),
                    FieldDef("Title", F.STRING, length=128),
                    _ref("AccountId", ("Account",), "Account"),
                    FieldDef("MailingCity", F.STRING, length=40),
                    FieldDef("MailingCountry", F.STRING, length=80),
                    FieldDef("HasOptedOutOfEmail", F.BOOLEAN, default=False),
                    FieldDef("DoNotCall", F.BOOLEAN, default=False),
                    FieldDef("Description", F.TEXTAREA),
                    *_LANGUAGE,
                ],
            ),
            _obj(
                "Lead",
                "00Q",
                [
                    *_PERSON_NAME,
                    FieldDef("Company", F.STRING, required=True),
                    FieldDef("Email", F.EMAIL),
                    FieldDef("Phone", F.PHONE),
                    _picklist(
                        "Status",
                        (
                            "Open - Not Contacted",
                            "Working - Contacted",
                            "Closed - Converted",
                            "Closed - Not Converted",
                        ),
                        "Open - Not Contacted",
                    ),
                    FieldDef("Country", F.STRING, length=80),
                    FieldDef("Industry", F.PICKLIST),
                    FieldDef("LeadSource", F.PICKLIST),
                    _read_only("IsConverted", F.BOOLEAN),
                    _ref("ConvertedContactId", ("Contact",), "ConvertedContact", createable=False),
                    _ref("ConvertedAccountId", ("Account",), "ConvertedAccount", createable=False),
                    *_LANGUAGE,
                ],
            ),
            _obj(
                "Opportunity",
                "006",
                [
                    FieldDef("Name", F.STRING, length=120, required=True),
                    _picklist(
                        "StageName",
                        (
                            "Prospecting",
                            "Qualification",
                            "Negotiation",
                            "Closed Won",
                            "Closed Lost",
                        ),
                        required=True,
                    ),
                    FieldDef("CloseDate", F.DATE, required=True),
                    FieldDef("Amount", F.CURRENCY),
                    _CURRENCY,
                    _ref("AccountId", ("Account",), "Account"),
                    _ref("ContactId", ("Contact",), "Contact"),
                    _read_only("IsClosed", F.BOOLEAN),
                    _read_only("IsWon", F.BOOLEAN),
                    FieldDef("Probability", F.PERCENT, precision=3, scale=0),
                    FieldDef("Type", F.PICKLIST),
                    FieldDef("LeadSource", F.PICKLIST),
                    FieldDef("Description", F.TEXTAREA),
                ],
                plural="Opportunities",
            ),
            _obj(
                "Order",
                "801",
                [
                    _ref("AccountId", ("Account",), "Account", required=True),
                    FieldDef("EffectiveDate", F.DATE, required=True),
                    _picklist("Status", ("Draft", "Activated"), "Draft"),
                    _read_only("OrderNumber", F.STRING, length=30),
                    _read_only("TotalAmount", F.CURRENCY),
                    _CURRENCY,
                    _ref("BillToContactId", ("Contact",), "BillToContact"),
                    FieldDef("Description", F.TEXTAREA),
                ],
                name_field="OrderNumber",
            ),
            _obj(
                "Case",
                "500",
                [
                    _read_only("CaseNumber", F.STRING, length=30),
                    FieldDef("Subject", F.STRING),
                    FieldDef("Description", F.TEXTAREA),
                    _picklist("Status", ("New", "Working", "Escalated", "Closed"), "New"),
                    _picklist("Priority", ("High", "Medium", "Low"), "Medium"),
                    _picklist("Origin", ("Phone", "Email", "Web")),
                    FieldDef("Type", F.PICKLIST),
                    FieldDef("Reason", F.PICKLIST),
                    _ref("ContactId", ("Contact",), "Contact"),
                    _ref("AccountId", ("Account",), "Account"),
                    _ref("ParentId", ("Case",), "Parent"),
                    _read_only("IsClosed", F.BOOLEAN),
                    _read_only("ClosedDate", F.DATETIME),
                    FieldDef("SuppliedEmail", F.EMAIL),
                    FieldDef("SuppliedName", F.STRING, length=80),
                ],
                name_field="CaseNumber",
            ),
            _obj(
                "CaseComment",
                "00a",
                [
                    _ref("ParentId", ("Case",), "Parent", required=True, updateable=False),
                    FieldDef("CommentBody", F.TEXTAREA, length=4000),
                    FieldDef("IsPublished", F.BOOLEAN, default=False),
                ],
                label="Case Comment",
                owner=False,
                name_field="CommentBody",
            ),
            _obj(
                "Task",
                "00T",
                [
                    FieldDef("Subject", F.STRING),
                    _picklist(
                        "Status",
                        (
                            "Not Started",
                            "In Progress",
                            "Completed",
                            "Waiting on someone else",
                            "Deferred",
                        ),
                        "Not Started",
                    ),
                    _picklist("Priority", ("High", "Normal", "Low"), "Normal"),
                    FieldDef("ActivityDate", F.DATE),
                    _ref("WhoId", _WHO, "Who"),
                    _ref("WhatId", _WHAT, "What"),
                    _ref("AccountId", ("Account",), "Account", createable=False, updateable=False),
                    FieldDef("Description", F.TEXTAREA),
                    _picklist("TaskSubtype", ("Task", "Email", "Call"), "Task"),
                    _picklist(
                        "Type", ("Call", "Email", "Meeting", "Chat", "Note", "Review", "Other")
                    ),
                    _picklist("CallType", ("Inbound", "Outbound", "Internal")),
                    _read_only("IsClosed", F.BOOLEAN),
                    FieldDef("CompletedDateTime", F.DATETIME),
                ],
                name_field="Subject",
            ),
            _obj(
                "Event",
                "00U",
                [
                    FieldDef("Subject", F.STRING),
                    FieldDef("StartDateTime", F.DATETIME),
                    FieldDef("EndDateTime", F.DATETIME),
                    FieldDef("ActivityDateTime", F.DATETIME),
                    FieldDef("DurationInMinutes", F.INT),
                    FieldDef("IsAllDayEvent", F.BOOLEAN, default=False),
                    _ref("WhoId", _WHO, "Who"),
                    _ref("WhatId", _WHAT, "What"),
                    FieldDef("Location", F.STRING),
                    FieldDef("Type", F.PICKLIST),
                    FieldDef("Description", F.TEXTAREA),
                ],
                name_field="Subject",
            ),
            _obj(
                "EmailMessage",
                "02s",
                [
                    _ref("ParentId", ("Case",), "Parent"),
                    _ref("RelatedToId", _WHAT, "RelatedTo"),
                    _ref("ActivityId", ("Task",), "Activity"),
                    FieldDef("FromAddress", F.EMAIL),
                    FieldDef("FromName", F.STRING, length=1000),
                    FieldDef("ToAddress", F.STRING, length=4000),
                    FieldDef("CcAddress", F.STRING, length=4000),
                    FieldDef("Subject", F.STRING, length=3000),
                    FieldDef("TextBody", F.TEXTAREA),
                    FieldDef("HtmlBody", F.TEXTAREA),
                    FieldDef("Incoming", F.BOOLEAN, default=False),
                    FieldDef("MessageDate", F.DATETIME),
                    _picklist("Status", ("0", "1", "2", "3", "4", "5"), "0"),
                ],
                label="Email Message",
                owner=False,
                name_field="Subject",
            ),
            _obj(
                "Survey_Response__c",
                "a0S",
                [
                    _read_only("Name", F.STRING, length=80),
                    FieldDef(
                        "Response_Id__c",
                        F.STRING,
                        length=64,
                        custom=True,
                        external_id=True,
                        unique=True,
                        label="Response Id",
                    ),
                    _ref("Contact__c", ("Contact",), "Contact__r", custom=True, label="Contact"),
                    _ref("Account__c", ("Account",), "Account__r", custom=True, label="Account"),
                    FieldDef(
                        "Survey_Type__c", F.PICKLIST, picklist=("NPS", "CSAT", "CES"), custom=True
                    ),
                    FieldDef("Score__c", F.DOUBLE, precision=3, scale=0, custom=True),
                    FieldDef("Comment__c", F.TEXTAREA, custom=True),
                    FieldDef("Language__c", F.STRING, length=10, custom=True),
                    FieldDef("Touchpoint__c", F.STRING, length=80, custom=True),
                    FieldDef("Responded_At__c", F.DATETIME, custom=True),
                ],
                label="Survey Response",
                custom=True,
            ),
        ]
    )
