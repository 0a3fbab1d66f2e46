"""How each resource is rendered: field order, names and SQL expressions, as JSON-ready SQL.

A view is an ordered list of (JSON key, SQL expression, flags). ``select()`` turns it into one
``json_object(...)`` expression, honouring ``fields=`` (only the named fields, plus the id,
which the API always returns). Keys flagged ``OPTIONAL`` are left out when NULL, for fields the
OpenAPI description types as non-nullable (a contact's ``name``); a contact's ``timeZone`` and
``ipAddress`` are ``""`` when unknown, as recorded on GetResponse 360.
``:base`` is the request's API root (``http://127.0.0.1:PORT/v3``), so every ``href`` points
back at the sandbox that served it.
"""

from __future__ import annotations

from dataclasses import dataclass

OPTIONAL = "optional"


@dataclass(frozen=True)
class View:
    id_key: str
    fields: tuple[tuple[str, str, str], ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key, _, _ in self.fields)

    def select(self, only: str | None = None) -> str:
        wanted = projection(only, self.id_key)
        chosen = [f for f in self.fields if wanted is None or f[0] in wanted]
        pairs = ", ".join(f"'{key}', {expr}" for key, expr, _ in chosen)
        sql = f"json_object({pairs})"
        optional = [(key, expr) for key, expr, flag in chosen if flag == OPTIONAL]
        if optional:
            paths = ", ".join(
                f"CASE WHEN {expr} IS NULL THEN '$.{key}' ELSE '$.__none__' END"
                for key, expr in optional
            )
            sql = f"json_remove({sql}, {paths})"
        return sql


def projection(only: str | None, id_key: str) -> set[str] | None:
    if not only:
        return None
    names = {name.strip() for name in only.split(",") if name.strip()}
    return names | {id_key} if names else None


def _f(key: str, expr: str, flag: str = "") -> tuple[str, str, str]:
    return (key, expr, flag)


def _campaign_ref(alias: str) -> str:
    return (
        f"json_object('campaignId', {alias}.cid, 'href', :base || '/campaigns/' || {alias}.cid,"
        f" 'name', {alias}.name)"
    )


CONTACT = View(
    "contactId",
    (
        _f("contactId", "c.cid"),
        _f("href", ":base || '/contacts/' || c.cid"),
        _f("name", "c.name", OPTIONAL),
        _f("origin", "c.origin"),
        _f("timeZone", "COALESCE(c.time_zone, '')"),
        _f("activities", ":base || '/contacts/' || c.cid || '/activities'"),
        _f("changedOn", "c.changed_on"),
        _f("createdOn", "c.created_on"),
        _f("campaign", _campaign_ref("k")),
        _f("email", "c.email"),
        _f("dayOfCycle", "c.day_of_cycle"),
        _f("scoring", "c.scoring"),
        _f("engagementScore", "c.engagement_score"),
        _f("note", "c.note"),
        _f("ipAddress", "COALESCE(c.ip_address, '')"),
    ),
)
CONTACT_SOURCE = "contacts c JOIN campaigns k ON k.id = c.campaign"

# ``GET /contacts?additionalFlags=customFieldValues``: each list element also carries the
# contact's custom field values, as ``GET /contacts/{id}`` shows them. The official OpenAPI
# description lists only ``exactMatch``; GetResponse's own published guide documents this flag
# ("Add ``additionalFlags=customFieldValues`` to include custom field data in response",
# GetResponse/public-api-agent-skills, getresponse-newsletter-skill/references/api-guide.md).
_FIELD_VALUES = (
    "json((SELECT json_group_array(json(v)) FROM (SELECT json_object("
    "'customFieldId', f.cid, 'name', f.name, 'value', json(cf.vals), 'values', json(cf.vals),"
    " 'type', f.format, 'fieldType', f.format, 'valueType', f.type) AS v"
    " FROM contact_fields cf JOIN custom_fields f ON f.id = cf.field"
    " WHERE cf.contact = c.id ORDER BY f.name)))"
)
CONTACT_WITH_FIELDS = View(
    CONTACT.id_key, (*CONTACT.fields, _f("customFieldValues", _FIELD_VALUES))
)

CAMPAIGN = View(
    "campaignId",
    (
        _f("campaignId", "k.cid"),
        _f("href", ":base || '/campaigns/' || k.cid"),
        _f("name", "k.name"),
        _f("techName", "k.name_key"),
        _f("languageCode", "k.language_code"),
        _f("isDefault", "k.is_default"),
        _f("createdOn", "k.created_on"),
        _f("description", "k.name"),
    ),
)

CUSTOM_FIELD = View(
    "customFieldId",
    (
        _f("customFieldId", "f.cid"),
        _f("href", ":base || '/custom-fields/' || f.cid"),
        _f("name", "f.name"),
        _f("type", "f.type"),
        _f("valueType", "f.type"),
        _f("format", "f.format"),
        _f("fieldType", "f.format"),
        _f("hidden", "f.hidden"),
        _f("values", "json(f.vals)"),
    ),
)

TAG = View(
    "tagId",
    (
        _f("tagId", "t.cid"),
        _f("href", ":base || '/tags/' || t.cid"),
        _f("name", "t.name"),
        _f("color", "''"),
        _f("createdAt", "t.created_at"),
    ),
)

FROM_FIELD = View(
    "fromFieldId",
    (
        _f("fromFieldId", "ff.cid"),
        _f("href", ":base || '/from-fields/' || ff.cid"),
        _f("email", "ff.email"),
        _f("rewrittenEmail", "ff.email"),
        _f("name", "ff.name"),
        _f("isActive", "ff.is_active"),
        _f("isDefault", "ff.is_default"),
        _f("createdOn", "ff.created_on"),
        _f(
            "domain",
            "json_object('status', 'confirmed', 'hasDMARCWarning', 'false')",
        ),
    ),
)

_METRICS = (
    "json_object('status', coalesce(n.send_status, 'finished'),"
    " 'sent', CAST((SELECT count(*) FROM activities a WHERE a.newsletter = n.id"
    " AND a.activity = 'send') AS TEXT),"
    " 'total', CAST(n.total AS TEXT),"
    " 'delivered', CAST((SELECT count(*) FROM activities a WHERE a.newsletter = n.id"
    " AND a.activity = 'send') AS TEXT),"
    " 'openRate', {open}, 'clickRate', {click}, 'humanOpenRate', {open},"
    " 'humanClickRate', {click})"
)


def _rate(activity: str) -> str:
    return (
        "printf('%.2f', coalesce((SELECT count(DISTINCT a.contact) FROM activities a"
        f" WHERE a.newsletter = n.id AND a.activity = '{activity}') * 1.0 /"
        " nullif((SELECT count(*) FROM activities a WHERE a.newsletter = n.id"
        " AND a.activity = 'send'), 0), 0))"
    )


NEWSLETTER_METRICS = _METRICS.format(open=_rate("open"), click=_rate("click"))

NEWSLETTER = View(
    "newsletterId",
    (
        _f("newsletterId", "n.cid"),
        _f("href", ":base || '/newsletters/' || n.cid"),
        _f("name", "n.name", OPTIONAL),
        _f("type", "n.type"),
        _f("status", "n.status"),
        _f("editor", "n.editor"),
        _f("subject", "n.subject"),
        _f("campaign", _campaign_ref("k")),
        _f("sendOn", "n.send_on", OPTIONAL),
        _f(
            "sendSettings",
            "json_object('timeTravel', coalesce(json_extract(n.send_settings, '$.timeTravel'),"
            " 'false'), 'perfectTiming', coalesce(json_extract(n.send_settings,"
            " '$.perfectTiming'), 'false'))",
        ),
        _f("sendMetrics", NEWSLETTER_METRICS),
        _f("createdOn", "n.created_on"),
        _f(
            "flags",
            "coalesce((SELECT group_concat(value, ',') FROM json_each(n.flags)), '')",
        ),
    ),
)
NEWSLETTER_SOURCE = "newsletters n JOIN campaigns k ON k.id = n.campaign"

IMPORT = View(
    "importId",
    (
        _f("importId", "i.cid"),
        _f("campaign", _campaign_ref("k")),
        _f("status", "i.status"),
        _f("statistics", "json(i.statistics)"),
        _f("errorStatistics", "json(i.error_statistics)"),
        _f("createdOn", "i.created_on"),
        _f("finishedOn", "i.finished_on", OPTIONAL),
        _f("href", ":base || '/imports/' || i.cid"),
    ),
)
IMPORT_SOURCE = "imports i JOIN campaigns k ON k.id = i.campaign"

CONTACT_ACTIVITY = View(
    "activity",
    (
        _f("activity", "a.activity"),
        _f("subject", "n.subject"),
        _f("createdOn", "a.created_on"),
        _f(
            "previewUrl",
            "CASE WHEN a.activity = 'send' THEN :root || '/__sandbox__/archive/' || n.cid"
            " || '.html' END",
        ),
        _f(
            "resource",
            "json_object('resourceId', n.cid, 'resourceType', 'newsletters',"
            " 'href', :base || '/newsletters/' || n.cid)",
        ),
        _f("clickTrack", "json(a.click_track)", OPTIONAL),
    ),
)
ACTIVITY_SOURCE = "activities a JOIN newsletters n ON n.id = a.newsletter"

NEWSLETTER_ACTIVITY = View(
    "activity",
    (
        _f("activity", "a.activity"),
        _f("createdOn", "a.created_on"),
        _f(
            "contact",
            "json_object('contactId', a.contact_cid, 'email', a.email,"
            " 'href', :base || '/contacts/' || a.contact_cid)",
        ),
    ),
)
