"""The six tables the connector adds to Dynamics (SPEC 3), defined once, as data.

GetResponse Lists, Contacts, Custom Fields, Activities, Templates and Newsletters. Each
carries its GetResponse id (an alternate key, so that re-runs upsert instead of
duplicating), a synchronization status (one choice set, the same values in every table)
and, where a record can fail, a synchronization error text. Lookups tie them to CRM
contacts, marketing lists and campaigns; lookups to ``contact`` cascade on merge, so that
a merged contact's GetResponse records move to the master (SPEC 8.4).

Everything that installs, checks or documents the tables reads these definitions:
``metadata.py`` turns them into Web API metadata payloads, ``docs/connector-schema.md`` is
generated from them, the sync jobs take column names from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reconcile.model import SyncStatus


@dataclass(frozen=True)
class Publisher:
    unique_name: str
    display: str
    prefix: str  # customization prefix of every schema name below
    option_value_prefix: int  # choice values are this * 10000 + n


PUBLISHER = Publisher("getresponseconnector", "GetResponse Connector (reconcile)", "grc", 72510)
SOLUTION_UNIQUE_NAME = "GetResponseConnector"
SOLUTION_DISPLAY = "GetResponse Connector"
SOLUTION_VERSION = "1.0.0.0"
LANGUAGE = 1033  # labels are English (LCID 1033), like the connector's own solution


def option_value(n: int) -> int:
    return PUBLISHER.option_value_prefix * 10_000 + n


# One value per status, the same in every table (jobs map statuses with one dictionary).
SYNC_STATUS_VALUES: dict[SyncStatus, int] = {
    status: option_value(n) for n, status in enumerate(SyncStatus)
}
SYNC_STATUS_BY_VALUE: dict[int, SyncStatus] = {v: k for k, v in SYNC_STATUS_VALUES.items()}

ACTIVITY_TYPES = {"send": option_value(100), "open": option_value(101), "click": option_value(102)}


@dataclass(frozen=True)
class Column:
    """A plain column. ``kind`` is the Dataverse AttributeType."""

    schema_name: str
    display: str
    kind: str  # String | Memo | Integer | DateTime | Boolean | Picklist
    description: str
    max_length: int | None = None
    format: str | None = None  # String: Text/Email/Url; DateTime: DateAndTime/DateOnly
    options: tuple[tuple[int, str], ...] = ()  # Picklist values and labels
    minimum: int | None = None
    maximum: int | None = None
    default: bool | None = None  # Boolean

    @property
    def logical_name(self) -> str:
        return self.schema_name.lower()


@dataclass(frozen=True)
class Lookup:
    """A many-to-one link (lookup column + one-to-many relationship from ``target``)."""

    schema_name: str  # also the single-valued navigation property used in @odata.bind
    display: str
    description: str
    target: str  # logical name of the referenced table
    follows_merge: bool = False  # cascade Merge: records move to the master contact

    @property
    def logical_name(self) -> str:
        return self.schema_name.lower()

    @property
    def value_property(self) -> str:
        """How reads show it: ``_grc_contactid_value``."""
        return f"_{self.logical_name}_value"


@dataclass(frozen=True)
class AlternateKey:
    schema_name: str
    display: str
    columns: tuple[str, ...]  # logical names


@dataclass(frozen=True)
class Table:
    key: str  # short name used in code and docs: lists, contacts, custom_fields …
    schema_name: str
    display: str
    plural: str
    description: str
    entity_set: str
    primary_name: Column
    columns: tuple[Column, ...]
    lookups: tuple[Lookup, ...]
    keys: tuple[AlternateKey, ...]
    statuses: tuple[SyncStatus, ...]
    has_error_text: bool = True
    sources: tuple[str, ...] = field(default=())  # SPEC / source sections it implements

    @property
    def logical_name(self) -> str:
        return self.schema_name.lower()

    @property
    def primary_id(self) -> str:
        return f"{self.logical_name}id"

    def all_columns(self) -> tuple[Column, ...]:
        """Every plain column, the derived status and error columns included."""
        derived = [status_column(self.statuses)]
        if self.has_error_text:
            derived.append(ERROR_COLUMN)
        return (*self.columns, *derived)

    def column(self, logical_name: str) -> Column:
        for column in (self.primary_name, *self.all_columns()):
            if column.logical_name == logical_name:
                return column
        raise KeyError(f"{self.logical_name} has no column {logical_name!r}")


P = PUBLISHER.prefix


def _id_column(what: str) -> Column:
    return Column(
        f"{P}_GetResponseId",
        f"GetResponse {what} ID",
        "String",
        f"The {what}'s id in GetResponse (alternate key).",
        max_length=100,
    )


def _name(display: str = "Name", length: int = 200) -> Column:
    return Column(
        f"{P}_Name", display, "String", "The record's name.", max_length=length, format="Text"
    )


def status_column(statuses: tuple[SyncStatus, ...]) -> Column:
    return Column(
        f"{P}_SynchronizationStatus",
        "Synchronization status",
        "Picklist",
        "Where the record stands in the synchronization with GetResponse.",
        options=tuple((SYNC_STATUS_VALUES[s], s.value) for s in statuses),
    )


ERROR_COLUMN = Column(
    f"{P}_SynchronizationError",
    "Synchronization error",
    "Memo",
    "Why the last synchronization of this record failed.",
    max_length=4000,
)
LAST_SYNC = Column(
    f"{P}_LastSynchronizedOn",
    "Last synchronized on",
    "DateTime",
    "When the record was last synchronized.",
    format="DateAndTime",
)
ID_KEY = AlternateKey(f"{P}_GetResponseIdKey", "GetResponse ID", (f"{P}_getresponseid",))

CONTACT = Lookup(f"{P}_ContactId", "Contact", "The CRM contact.", "contact", follows_merge=True)
MARKETING_LIST = Lookup(f"{P}_MarketingListId", "Marketing list", "The CRM marketing list.", "list")

LISTS = Table(
    key="lists",
    schema_name=f"{P}_GetResponseList",
    display="GetResponse List",
    plural="GetResponse Lists",
    entity_set=f"{P}_getresponselists",
    description="A GetResponse list linked to a marketing list that targets contacts.",
    primary_name=_name("Name", 64),
    columns=(
        _id_column("list (campaign)"),
        Column(
            f"{P}_IsCreatedInGetResponse",
            "Is created in GetResponse",
            "Boolean",
            "Yes once the list exists in GetResponse.",
            default=False,
        ),
        LAST_SYNC,
    ),
    lookups=(MARKETING_LIST,),
    keys=(ID_KEY,),
    statuses=(
        SyncStatus.NEW,
        SyncStatus.CREATED_IN_GETRESPONSE,
        SyncStatus.ERROR,
        SyncStatus.DELETED_IN_GETRESPONSE,
    ),
    sources=("SPEC 3", "SPEC 4.1-4.5"),
)

CONTACTS = Table(
    key="contacts",
    schema_name=f"{P}_GetResponseContact",
    display="GetResponse Contact",
    plural="GetResponse Contacts",
    entity_set=f"{P}_getresponsecontacts",
    description="A contact of a GetResponse list, linked (when known) to a CRM contact.",
    primary_name=_name("Name", 200),
    columns=(
        _id_column("contact"),
        Column(
            f"{P}_Email",
            "Email",
            "String",
            "The contact's email in GetResponse.",
            max_length=100,
            format="Email",
        ),
        Column(
            f"{P}_EngagementScore",
            "Engagement score",
            "Integer",
            "GetResponse engagement score.",
            minimum=0,
            maximum=100,
        ),
        Column(
            f"{P}_ScoringPoints",
            "Scoring points",
            "Integer",
            "GetResponse scoring points.",
            minimum=-1_000_000_000,
            maximum=1_000_000_000,
        ),
        Column(
            f"{P}_Origin", "Origin", "String", "How the contact joined GetResponse.", max_length=100
        ),
        Column(
            f"{P}_CreatedInGetResponseOn",
            "Created in GetResponse on",
            "DateTime",
            "When GetResponse created the contact.",
            format="DateAndTime",
        ),
        Column(
            f"{P}_Tags",
            "Tags",
            "Memo",
            "The contact's GetResponse tags, comma-separated.",
            max_length=4000,
        ),
        LAST_SYNC,
    ),
    lookups=(
        CONTACT,
        Lookup(
            f"{P}_GetResponseListId",
            "GetResponse list",
            "The GetResponse list.",
            f"{P}_getresponselist",
        ),
    ),
    keys=(ID_KEY,),
    statuses=(
        SyncStatus.NEW,
        SyncStatus.SYNCHRONIZED,
        SyncStatus.ERROR,
        SyncStatus.DELETED_IN_GETRESPONSE,
    ),
    sources=("SPEC 3", "SPEC 5.1-5.4", "SPEC 8.2-8.4"),
)

CUSTOM_FIELDS = Table(
    key="custom_fields",
    schema_name=f"{P}_GetResponseCustomField",
    display="GetResponse Custom Field",
    plural="GetResponse Custom Fields",
    entity_set=f"{P}_getresponsecustomfields",
    description="A GetResponse custom field value of one contact (read-only in the CRM).",
    primary_name=_name("Name", 128),
    columns=(
        _id_column("custom field"),
        Column(
            f"{P}_ContactGetResponseId",
            "GetResponse contact ID",
            "String",
            "The GetResponse id of the contact this value belongs to.",
            max_length=100,
        ),
        Column(
            f"{P}_Value", "Value", "Memo", "The value, as GetResponse shows it.", max_length=4000
        ),
        Column(
            f"{P}_FieldType", "Field type", "String", "The GetResponse field type.", max_length=50
        ),
    ),
    lookups=(
        Lookup(
            f"{P}_GetResponseContactId",
            "GetResponse contact",
            "The GetResponse contact.",
            f"{P}_getresponsecontact",
        ),
        CONTACT,
    ),
    keys=(
        AlternateKey(
            f"{P}_CustomFieldContactKey",
            "Custom field of a contact",
            (f"{P}_getresponseid", f"{P}_contactgetresponseid"),
        ),
    ),
    statuses=(SyncStatus.SYNCHRONIZED, SyncStatus.ERROR, SyncStatus.DELETED_IN_GETRESPONSE),
    sources=("SPEC 3", "SPEC 5.2", "SPEC 8.4"),
)

TEMPLATES = Table(
    key="templates",
    schema_name=f"{P}_GetResponseTemplate",
    display="GetResponse Template",
    plural="GetResponse Templates",
    entity_set=f"{P}_getresponsetemplates",
    description="A GetResponse draft whose name starts with 'MS CRM', usable for newsletters.",
    primary_name=_name("Name", 200),
    columns=(
        _id_column("draft"),
        Column(f"{P}_Subject", "Subject", "String", "The draft's subject line.", max_length=400),
        LAST_SYNC,
    ),
    lookups=(),
    keys=(ID_KEY,),
    statuses=(SyncStatus.SYNCHRONIZED, SyncStatus.ERROR, SyncStatus.DELETED_IN_GETRESPONSE),
    sources=("SPEC 3", "SPEC 6"),
)

NEWSLETTERS = Table(
    key="newsletters",
    schema_name=f"{P}_GetResponseNewsletter",
    display="GetResponse Newsletter",
    plural="GetResponse Newsletters",
    entity_set=f"{P}_getresponsenewsletters",
    description="A newsletter sent through GetResponse, from the CRM or from GetResponse.",
    primary_name=_name("Name", 200),
    columns=(
        _id_column("newsletter"),
        Column(
            f"{P}_ScheduledOn",
            "Scheduled send time",
            "DateTime",
            "When GetResponse should send it.",
            format="DateAndTime",
        ),
        Column(
            f"{P}_CreatedInGetResponse",
            "Created in GetResponse",
            "Boolean",
            "Yes for emails created in GetResponse rather than in the CRM.",
            default=False,
        ),
        Column(
            f"{P}_Subject", "Subject", "String", "The newsletter's subject line.", max_length=400
        ),
        Column(
            f"{P}_SendTimeText",
            "Send time (time zones)",
            "String",
            "The scheduled send time in the CRM user's time zone, in UTC and in the "
            "GetResponse account's time zone.",
            max_length=400,
        ),
        Column(
            f"{P}_Recipients",
            "Recipients",
            "Integer",
            "How many contacts GetResponse was asked to send it to.",
            minimum=0,
            maximum=2_000_000_000,
        ),
        Column(
            f"{P}_LeftOut",
            "Left out",
            "Integer",
            "Members of the marketing list it was not sent to (see Left out, why).",
            minimum=0,
            maximum=2_000_000_000,
        ),
        Column(
            f"{P}_LeftOutReasons",
            "Left out, why",
            "Memo",
            "Why members were left out: no bulk email allowed, no GetResponse contact …",
            max_length=4000,
        ),
        Column(
            f"{P}_Scheduled",
            "As scheduled",
            "Memo",
            "What was scheduled in GetResponse (name, template, marketing list, campaign, send "
            "time), written before the send: later edits are reported, not applied.",
            max_length=4000,
        ),
        LAST_SYNC,
    ),
    lookups=(
        Lookup(
            f"{P}_TemplateId",
            "Template",
            "The GetResponse template it is made from.",
            f"{P}_getresponsetemplate",
        ),
        MARKETING_LIST,
        Lookup(f"{P}_CampaignId", "Campaign", "The CRM campaign (optional).", "campaign"),
    ),
    keys=(ID_KEY,),
    statuses=(
        SyncStatus.NEW,
        SyncStatus.READY_FOR_REALIZATION,
        SyncStatus.SCHEDULED,
        SyncStatus.SENT,
        SyncStatus.SYNCHRONIZED,
        SyncStatus.ERROR,
        SyncStatus.DELETED_IN_GETRESPONSE,
    ),
    sources=("SPEC 3", "SPEC 7"),
)

ACTIVITIES = Table(
    key="activities",
    schema_name=f"{P}_GetResponseActivity",
    display="GetResponse Activity",
    plural="GetResponse Activities",
    entity_set=f"{P}_getresponseactivities",
    description="A send, open or click of a GetResponse message by one contact.",
    primary_name=_name("Message name", 200),
    columns=(
        _id_column("activity"),
        Column(
            f"{P}_ActivityType",
            "Activity type",
            "Picklist",
            "Send, open or click.",
            options=tuple((v, k.capitalize()) for k, v in ACTIVITY_TYPES.items()),
        ),
        Column(
            f"{P}_ActivityDate",
            "Activity date",
            "DateTime",
            "When it happened.",
            format="DateAndTime",
        ),
        Column(
            f"{P}_Url",
            "URL",
            "String",
            "The clicked link (clicks only).",
            max_length=2000,
            format="Url",
        ),
        Column(
            f"{P}_MessageId",
            "GetResponse message ID",
            "String",
            "The GetResponse newsletter or message id.",
            max_length=100,
        ),
        Column(
            f"{P}_ContactGetResponseId",
            "GetResponse contact ID",
            "String",
            "The GetResponse id of the contact it belongs to.",
            max_length=100,
        ),
        Column(
            f"{P}_Count",
            "Count",
            "Integer",
            "How many activities the record stands for: 1, or with aggregation "
            "(activities.aggregate) every send, open or click of this contact, message and "
            "type.",
            minimum=0,
            maximum=2_000_000_000,
        ),
        Column(
            f"{P}_LastActivityDate",
            "Last activity date",
            "DateTime",
            "The latest activity the record counts (the same as Activity date unless aggregated).",
            format="DateAndTime",
        ),
        Column(
            f"{P}_Source",
            "Source",
            "String",
            "Where the record comes from: report (GetResponse custom report), messages or "
            "contacts (the activity endpoints), callback (reconcile listen; a callback dated on "
            "receipt becomes report once the hourly run confirms it).",
            max_length=20,
        ),
    ),
    lookups=(
        Lookup(
            f"{P}_GetResponseContactId",
            "GetResponse contact",
            "The GetResponse contact.",
            f"{P}_getresponsecontact",
        ),
        CONTACT,
        Lookup(
            f"{P}_NewsletterId",
            "Newsletter",
            "The GetResponse Newsletter record of the message (sent from the CRM or from "
            "GetResponse).",
            f"{P}_getresponsenewsletter",
        ),
    ),
    keys=(ID_KEY,),
    statuses=(SyncStatus.SYNCHRONIZED, SyncStatus.ERROR),
    has_error_text=False,
    sources=("SPEC 3", "SPEC 5.5", "SPEC 8.4"),
)

# Creation order: referenced tables before the tables whose lookups point at them.
TABLES: tuple[Table, ...] = (LISTS, CONTACTS, CUSTOM_FIELDS, TEMPLATES, NEWSLETTERS, ACTIVITIES)
BY_KEY = {t.key: t for t in TABLES}
BY_LOGICAL_NAME = {t.logical_name: t for t in TABLES}


@dataclass(frozen=True)
class CrmTable:
    """A standard Dynamics table the connector reads or links to."""

    logical_name: str
    schema_name: str  # privilege names are prv<Verb><SchemaName>: prvReadContact
    display: str
    entity_set: str
    primary_id: str


CRM_TABLES = {
    "contact": CrmTable("contact", "Contact", "Contact", "contacts", "contactid"),
    "list": CrmTable("list", "List", "Marketing List", "lists", "listid"),
    "campaign": CrmTable("campaign", "Campaign", "Campaign", "campaigns", "campaignid"),
}


KEY_MARK = "~"


def getresponse_key(getresponse_id: str) -> str:
    """What a connector table's ``grc_getresponseid`` holds for a GetResponse id.

    GetResponse ids are case-sensitive (``pV3r`` and ``pv3r`` are two contacts; ids are
    base-62 strings), but Dataverse compares text without case, alternate keys included: two
    such contacts would be one record, and an upsert of one would overwrite the other. The
    stored value is the id itself, followed — when it has capitals — by ``~`` and the
    positions of its capitals as a hexadecimal bit mask (``RrrA`` → ``RrrA~9``), which keeps
    it readable and unique under any case folding. :func:`getresponse_id` reverses it."""
    mask = sum(1 << i for i, ch in enumerate(getresponse_id) if ch.isupper())
    return f"{getresponse_id}{KEY_MARK}{mask:x}" if mask else getresponse_id


def getresponse_id(key: str) -> str:
    """The GetResponse id a ``grc_getresponseid`` value stands for (see
    :func:`getresponse_key`)."""
    return key.split(KEY_MARK, 1)[0]


def primary_id_of(logical_name: str) -> str:
    if logical_name in CRM_TABLES:
        return CRM_TABLES[logical_name].primary_id
    return BY_LOGICAL_NAME[logical_name].primary_id
