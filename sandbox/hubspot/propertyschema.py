"""The built-in property definitions of each object type (HubSpot-defined properties).

Only the properties cem-bridge and the data loader touch, with HubSpot's internal names, types
and groups (docs/crm-api-facts.md §3.3, §3.7, §3.8). Feedback-submission names come from HubSpot's
survey objects and are unverified. Users add their own through the properties API.
"""

from __future__ import annotations

# (name, type, fieldType, groupName); every type's system properties are added by the registry.
Spec = tuple[str, str, str, str]


_CONTACT: tuple[Spec, ...] = (
    ("email", "string", "text", "contactinformation"),
    ("firstname", "string", "text", "contactinformation"),
    ("lastname", "string", "text", "contactinformation"),
    ("phone", "string", "phonenumber", "contactinformation"),
    ("company", "string", "text", "contactinformation"),
    ("jobtitle", "string", "text", "contactinformation"),
    ("country", "string", "text", "contactinformation"),
    ("city", "string", "text", "contactinformation"),
    ("hs_language", "enumeration", "select", "contactinformation"),
    ("hs_timezone", "enumeration", "select", "contactinformation"),
    ("lifecyclestage", "enumeration", "radio", "contactinformation"),
    ("hs_lead_status", "enumeration", "radio", "sales_properties"),
    ("associatedcompanyid", "number", "number", "contactinformation"),
    ("hubspot_owner_id", "enumeration", "select", "contactinformation"),
    # Not HubSpot's own: the custom property a Vietnamese shop's portal keeps the customer's Zalo
    # user id in (a string: the ids exceed 2^53); mapped as `refs.zalo`.
    ("zalo_user_id", "string", "text", "contactinformation"),
)

_COMPANY: tuple[Spec, ...] = (
    ("name", "string", "text", "companyinformation"),
    ("domain", "string", "text", "companyinformation"),
    ("country", "string", "text", "companyinformation"),
    ("city", "string", "text", "companyinformation"),
    ("industry", "enumeration", "select", "companyinformation"),
    ("annualrevenue", "number", "number", "companyinformation"),
    ("numberofemployees", "number", "number", "companyinformation"),
    ("lifecyclestage", "enumeration", "radio", "companyinformation"),
    ("hubspot_owner_id", "enumeration", "select", "companyinformation"),
)

_DEAL: tuple[Spec, ...] = (
    ("dealname", "string", "text", "dealinformation"),
    ("amount", "number", "number", "dealinformation"),
    ("dealstage", "enumeration", "radio", "dealinformation"),
    ("pipeline", "enumeration", "select", "dealinformation"),
    ("closedate", "datetime", "date", "dealinformation"),
    ("deal_currency_code", "enumeration", "select", "dealinformation"),
    ("dealtype", "enumeration", "radio", "dealinformation"),
    ("hs_is_closed_won", "bool", "booleancheckbox", "dealinformation"),
    ("hubspot_owner_id", "enumeration", "select", "dealinformation"),
)

_TICKET: tuple[Spec, ...] = (
    ("subject", "string", "text", "ticketinformation"),
    ("content", "string", "textarea", "ticketinformation"),
    ("hs_pipeline", "enumeration", "select", "ticketinformation"),
    ("hs_pipeline_stage", "enumeration", "select", "ticketinformation"),
    ("hs_ticket_priority", "enumeration", "select", "ticketinformation"),
    ("hs_ticket_category", "enumeration", "checkbox", "ticketinformation"),
    ("closed_date", "datetime", "date", "ticketinformation"),
    ("source_type", "enumeration", "select", "ticketinformation"),
    ("hubspot_owner_id", "enumeration", "select", "ticketinformation"),
)

_LINE_ITEM: tuple[Spec, ...] = (
    ("name", "string", "text", "lineiteminformation"),
    ("quantity", "number", "number", "lineiteminformation"),
    ("price", "number", "number", "lineiteminformation"),
    ("amount", "number", "calculation_equation", "lineiteminformation"),
    ("hs_product_id", "string", "text", "lineiteminformation"),
    ("hs_sku", "string", "text", "lineiteminformation"),
)


def _engagement(group: str, *specs: tuple[str, str, str]) -> tuple[Spec, ...]:
    common = (
        ("hs_timestamp", "datetime", "date"),
        ("hubspot_owner_id", "enumeration", "select"),
    )
    return tuple((n, t, f, group) for n, t, f in (*common, *specs))


BUILTIN: dict[str, tuple[Spec, ...]] = {
    "contacts": _CONTACT,
    "companies": _COMPANY,
    "deals": _DEAL,
    "tickets": _TICKET,
    "line_items": _LINE_ITEM,
    "notes": _engagement(
        "note",
        ("hs_note_body", "string", "html"),
        ("hs_attachment_ids", "enumeration", "checkbox"),
    ),
    "emails": _engagement(
        "email",
        ("hs_email_direction", "enumeration", "select"),
        ("hs_email_status", "enumeration", "select"),
        ("hs_email_subject", "string", "text"),
        ("hs_email_text", "string", "textarea"),
        ("hs_email_html", "string", "html"),
        ("hs_email_headers", "string", "text"),
    ),
    "calls": _engagement(
        "call",
        ("hs_call_title", "string", "text"),
        ("hs_call_body", "string", "html"),
        ("hs_call_direction", "enumeration", "select"),
        ("hs_call_duration", "number", "number"),
        ("hs_call_status", "enumeration", "select"),
        ("hs_call_disposition", "string", "text"),
        ("hs_call_from_number", "string", "text"),
        ("hs_call_to_number", "string", "text"),
        ("hs_call_recording_url", "string", "text"),
    ),
    "meetings": _engagement(
        "meeting",
        ("hs_meeting_title", "string", "text"),
        ("hs_meeting_body", "string", "html"),
        ("hs_meeting_start_time", "datetime", "date"),
        ("hs_meeting_end_time", "datetime", "date"),
        ("hs_meeting_location", "string", "text"),
        ("hs_meeting_outcome", "enumeration", "select"),
        ("hs_internal_meeting_notes", "string", "html"),
    ),
    "tasks": _engagement(
        "task",
        ("hs_task_subject", "string", "text"),
        ("hs_task_body", "string", "html"),
        ("hs_task_status", "enumeration", "select"),
        ("hs_task_priority", "enumeration", "select"),
        ("hs_task_type", "enumeration", "select"),
        ("hs_task_reminders", "string", "text"),
        ("hs_queue_membership_ids", "enumeration", "checkbox"),
    ),
    "feedback_submissions": (
        ("hs_survey_type", "enumeration", "select", "feedbacksubmissioninformation"),
        ("hs_survey_name", "string", "text", "feedbacksubmissioninformation"),
        ("hs_survey_channel", "enumeration", "select", "feedbacksubmissioninformation"),
        ("hs_value", "number", "number", "feedbacksubmissioninformation"),
        ("hs_response_group", "enumeration", "select", "feedbacksubmissioninformation"),
        ("hs_content", "string", "textarea", "feedbacksubmissioninformation"),
        ("hs_submission_timestamp", "datetime", "date", "feedbacksubmissioninformation"),
        ("hs_contact_id", "number", "number", "feedbacksubmissioninformation"),
        ("hs_sentiment", "enumeration", "select", "feedbacksubmissioninformation"),
        ("hs_language", "enumeration", "select", "feedbacksubmissioninformation"),
    ),
}

# Options of the enumerations whose values HubSpot checks and our code writes (docs/crm-api-facts.md
# §3.7). Enumerations without options here accept any string, as portals customise them.
OPTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("tasks", "hs_task_status"): ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"),
    ("tasks", "hs_task_priority"): ("NONE", "LOW", "MEDIUM", "HIGH"),
    ("tasks", "hs_task_type"): ("EMAIL", "CALL", "TODO"),
    ("emails", "hs_email_direction"): ("EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"),
    ("emails", "hs_email_status"): ("SENT", "SCHEDULED", "BOUNCED", "FAILED", "SENDING"),
    ("calls", "hs_call_direction"): ("INBOUND", "OUTBOUND"),
    ("meetings", "hs_meeting_outcome"): (
        "SCHEDULED",
        "COMPLETED",
        "RESCHEDULED",
        "NO_SHOW",
        "CANCELED",
    ),
    ("tickets", "hs_ticket_priority"): ("LOW", "MEDIUM", "HIGH", "URGENT"),
    ("feedback_submissions", "hs_survey_type"): ("NPS", "CSAT", "CES", "CUSTOM"),
}

GROUP_LABELS: dict[str, str] = {
    "contactinformation": "Contact information",
    "sales_properties": "Sales properties",
    "companyinformation": "Company information",
    "dealinformation": "Deal information",
    "ticketinformation": "Ticket information",
    "lineiteminformation": "Line item information",
    "note": "Note information",
    "email": "Email information",
    "call": "Call information",
    "meeting": "Meeting information",
    "task": "Task information",
    "feedbacksubmissioninformation": "Feedback submission information",
}
