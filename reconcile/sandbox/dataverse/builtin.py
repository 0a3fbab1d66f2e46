"""The out-of-the-box tables of a Dynamics 365 Sales organization that the sync touches.

Column names, types, lengths and choice values follow Microsoft's entity reference pages
(contact, account, lead, list, listmember, campaign, systemuser, role, privilege …); see
``docs/dataverse-api.md`` for sources and for what is simplified. Only the columns a client of
this toolkit plausibly reads or writes are modelled, plus the platform columns every table has.
"""

from __future__ import annotations

from reconcile.sandbox.dataverse.models import Attribute, Entity, ManyToMany, OneToMany

ACTIVE_INACTIVE = {0: "Active", 1: "Inactive"}
STATUS_ACTIVE_INACTIVE = {1: "Active", 2: "Inactive"}


NAMES = {
    "contact": ("Contact", "Contact", "Contacts"),
    "account": ("Account", "Account", "Accounts"),
    "lead": ("Lead", "Lead", "Leads"),
    "list": ("List", "Marketing List", "Marketing Lists"),
    "listmember": ("ListMember", "List Member", "List Members"),
    "campaign": ("Campaign", "Campaign", "Campaigns"),
    "campaignitem": ("CampaignItem", "Campaign Item", "Campaign Items"),
    "organization": ("Organization", "Organization", "Organizations"),
    "businessunit": ("BusinessUnit", "Business Unit", "Business Units"),
    "systemuser": ("SystemUser", "User", "Users"),
    "team": ("Team", "Team", "Teams"),
    "role": ("Role", "Security Role", "Security Roles"),
    "privilege": ("Privilege", "Privilege", "Privileges"),
    "roleprivileges": ("RolePrivileges", "Role Privilege", "Role Privileges"),
    "systemuserroles": ("SystemUserRoles", "User Roles", "User Roles"),
    "publisher": ("Publisher", "Publisher", "Publishers"),
    "solution": ("Solution", "Solution", "Solutions"),
    "savedquery": ("SavedQuery", "View", "Views"),
    "savedqueryvisualization": ("SavedQueryVisualization", "System Chart", "System Charts"),
    "systemform": ("SystemForm", "System Form", "System Forms"),
    "solutioncomponent": ("SolutionComponent", "Solution Component", "Solution Components"),
}


def s(name: str, length: int = 100, **kw: object) -> Attribute:
    return Attribute(name, "String", max_length=length, **kw)  # type: ignore[arg-type]


def memo(name: str, length: int = 2000, **kw: object) -> Attribute:
    return Attribute(name, "Memo", max_length=length, **kw)  # type: ignore[arg-type]


def a(name: str, type_: str, **kw: object) -> Attribute:
    return Attribute(name, type_, **kw)  # type: ignore[arg-type]


def lookup(name: str, *targets: str, type_: str = "Lookup", **kw: object) -> Attribute:
    return Attribute(name, type_, targets=list(targets), **kw)  # type: ignore[arg-type]


def platform_columns(ownership: str) -> list[Attribute]:
    """Columns the platform adds to every table it creates."""
    columns = [
        a("createdon", "DateTime", readonly=True),
        a("modifiedon", "DateTime", readonly=True),
        lookup("createdby", "systemuser", readonly=True),
        lookup("modifiedby", "systemuser", readonly=True),
        a("versionnumber", "BigInt", readonly=True),
    ]
    if ownership in ("UserOwned", "BusinessOwned"):
        columns.append(lookup("owningbusinessunit", "businessunit", readonly=True))
    if ownership == "UserOwned":
        columns.append(lookup("ownerid", "systemuser", "team", type_="Owner"))
    return columns


def table(
    logical_name: str,
    entity_set: str,
    otc: int,
    primary_name: str | None,
    columns: list[Attribute],
    *,
    ownership: str = "UserOwned",
    state: dict[int, str] | None = ACTIVE_INACTIVE,
    status: dict[int, str] | None = STATUS_ACTIVE_INACTIVE,
    default_status: dict[int, int] | None = None,
    status_state: dict[int, int] | None = None,
    primary_id: str | None = None,
    **kw: object,
) -> Entity:
    schema, display, plural = NAMES[logical_name]
    primary_id = primary_id or f"{logical_name}id"
    entity = Entity(
        logical_name,
        entity_set,
        primary_id,
        primary_name,
        otc,
        schema_name=schema,
        display_name=display,
        display_collection_name=plural,
        ownership=ownership,
        default_status=default_status or {0: 1, 1: 2},
        status_state=status_state or {1: 0, 2: 1},
        **kw,  # type: ignore[arg-type]
    )
    entity.add(a(primary_id, "Uniqueidentifier", is_primary_id=True))
    for column in columns:
        if column.logical_name == primary_name:
            column.is_primary_name = True
        entity.add(column)
    if state is not None:
        entity.add(a("statecode", "State", options=dict(state)))
    if status is not None:
        entity.add(a("statuscode", "Status", options=dict(status)))
    for column in platform_columns(ownership):
        entity.add(column)
    return entity


def _contact() -> Entity:
    return table(
        "contact",
        "contacts",
        2,
        "fullname",
        [
            s("firstname", 50),
            s("lastname", 50),
            s("middlename", 50),
            s("fullname", 160, readonly=True),
            s("emailaddress1", 100, format="Email"),
            s("emailaddress2", 100, format="Email"),
            s("emailaddress3", 100, format="Email"),
            s("telephone1", 50),
            s("mobilephone", 50),
            s("jobtitle", 100),
            s("address1_line1", 250),
            s("address1_city", 80),
            s("address1_postalcode", 20),
            s("address1_country", 80),
            a("birthdate", "DateTime", format="DateOnly"),
            a("gendercode", "Picklist", options={1: "Male", 2: "Female"}),
            a(
                "preferredcontactmethodcode",
                "Picklist",
                options={1: "Any", 2: "Email", 3: "Phone", 4: "Fax", 5: "Mail"},
            ),
            a("donotbulkemail", "Boolean"),
            a("donotemail", "Boolean"),
            memo("description"),
            lookup("parentcustomerid", "account", "contact", type_="Customer"),
            a("merged", "Boolean", readonly=True),
            lookup("masterid", "contact", readonly=True),
        ],
        change_tracking=True,
    )


def _account() -> Entity:
    return table(
        "account",
        "accounts",
        1,
        "name",
        [
            s("name", 160, required="ApplicationRequired"),
            s("accountnumber", 20),
            s("emailaddress1", 100, format="Email"),
            s("telephone1", 50),
            s("websiteurl", 200),
            s("address1_city", 80),
            s("address1_country", 80),
            memo("description"),
            lookup("primarycontactid", "contact"),
            lookup("parentaccountid", "account"),
            a("merged", "Boolean", readonly=True),
            lookup("masterid", "account", readonly=True),
        ],
        change_tracking=True,
    )


def _lead() -> Entity:
    return table(
        "lead",
        "leads",
        4,
        "fullname",
        [
            s("subject", 300),
            s("firstname", 50),
            s("lastname", 50, required="ApplicationRequired"),
            s("fullname", 160, readonly=True),
            s("companyname", 100),
            s("emailaddress1", 100, format="Email"),
            a("merged", "Boolean", readonly=True),
            lookup("masterid", "lead", readonly=True),
        ],
        state={0: "Open", 1: "Qualified", 2: "Disqualified"},
        status={1: "New", 2: "Contacted", 3: "Qualified", 4: "Lost", 5: "Cannot Contact"},
        default_status={0: 1, 1: 3, 2: 4},
        status_state={1: 0, 2: 0, 3: 1, 4: 2, 5: 2},
    )


def _list() -> Entity:
    return table(
        "list",
        "lists",
        4300,
        "listname",
        [
            s("listname", 128, required="SystemRequired"),
            a("type", "Boolean", options={0: "Static", 1: "Dynamic"}),
            a(
                "createdfromcode",
                "Picklist",
                options={1: "Account", 2: "Contact", 4: "Lead"},
                required="SystemRequired",
                create_only=True,
            ),
            memo("query", 1073741823),
            a("membercount", "Integer", readonly=True),
            s("purpose", 512),
            s("source", 128),
            memo("description"),
            a("lockstatus", "Boolean"),
            a("cost", "Money"),
            a("lastusedon", "DateTime"),
            a("processedmembercount", "Integer", readonly=True),
        ],
        status={0: "Active", 1: "Inactive"},
        default_status={0: 0, 1: 1},
        status_state={0: 0, 1: 1},
        change_tracking=True,
    )


def _listmember() -> Entity:
    return table(
        "listmember",
        "listmembers",
        4301,
        None,
        [
            lookup("listid", "list", create_only=True),
            lookup("entityid", "account", "contact", "lead", create_only=True),
            s("entitytype", 64, readonly=True),
        ],
        ownership="None",
        state=None,
        status=None,
        is_intersect=True,
        bulk_messages=False,
    )


def _campaign() -> Entity:
    return table(
        "campaign",
        "campaigns",
        4400,
        "name",
        [
            s("name", 128, required="SystemRequired"),
            s("codename", 32),
            memo("description"),
            a(
                "typecode",
                "Picklist",
                options={
                    1: "Advertisement",
                    2: "Direct Marketing",
                    3: "Event",
                    4: "Co-branding",
                    5: "Other",
                },
            ),
            a("istemplate", "Boolean"),
            a("proposedstart", "DateTime", format="DateOnly"),
            a("proposedend", "DateTime", format="DateOnly"),
            a("actualstart", "DateTime", format="DateOnly"),
            a("actualend", "DateTime", format="DateOnly"),
            a("budgetedcost", "Money"),
        ],
        status={
            0: "Proposed",
            1: "Ready To Launch",
            2: "Launched",
            3: "Completed",
            4: "Canceled",
            5: "Suspended",
            6: "Inactive",
        },
        default_status={0: 0, 1: 6},
        status_state={0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 1},
    )


def _campaignitem() -> Entity:
    return table(
        "campaignitem",
        "campaignitems",
        4403,
        None,
        [
            lookup("campaignid", "campaign", create_only=True),
            a("entityid", "Uniqueidentifier", create_only=True),
            a("entitytype", "EntityName", create_only=True),
        ],
        ownership="None",
        state=None,
        status=None,
        is_intersect=True,
        bulk_messages=False,
    )


def _security() -> list[Entity]:
    org = table(
        "organization",
        "organizations",
        1019,
        "name",
        [s("name", 160)],
        ownership="None",
        state=None,
        status=None,
    )
    businessunit = table(
        "businessunit",
        "businessunits",
        10,
        "name",
        [s("name", 160), lookup("parentbusinessunitid", "businessunit")],
        ownership="None",
        state=None,
        status=None,
    )
    systemuser = table(
        "systemuser",
        "systemusers",
        8,
        "fullname",
        [
            s("fullname", 200, readonly=True),
            s("firstname", 64),
            s("lastname", 64),
            s("domainname", 1024),
            s("internalemailaddress", 100),
            a("applicationid", "Uniqueidentifier"),
            a("azureactivedirectoryobjectid", "Uniqueidentifier"),
            a("isdisabled", "Boolean"),
            a(
                "accessmode",
                "Picklist",
                options={
                    0: "Read-Write",
                    1: "Administrative",
                    2: "Read",
                    3: "Support User",
                    4: "Non-interactive",
                    5: "Delegated Admin",
                },
            ),
            lookup("businessunitid", "businessunit"),
        ],
        ownership="BusinessOwned",
        state=None,
        status=None,
    )
    team = table(
        "team",
        "teams",
        9,
        "name",
        [s("name", 160), lookup("businessunitid", "businessunit")],
        ownership="BusinessOwned",
        state=None,
        status=None,
    )
    role = table(
        "role",
        "roles",
        1036,
        "name",
        [s("name", 100), lookup("businessunitid", "businessunit")],
        ownership="BusinessOwned",
        state=None,
        status=None,
    )
    privilege = table(
        "privilege",
        "privileges",
        1023,
        "name",
        [
            s("name", 100),
            a("accessright", "Integer"),
            a("canbebasic", "Boolean"),
            a("canbelocal", "Boolean"),
            a("canbedeep", "Boolean"),
            a("canbeglobal", "Boolean"),
        ],
        ownership="None",
        state=None,
        status=None,
    )
    roleprivileges = table(
        "roleprivileges",
        "roleprivilegescollection",
        1037,
        None,
        [
            lookup("roleid", "role"),
            lookup("privilegeid", "privilege"),
            a("privilegedepthmask", "Integer"),
        ],
        ownership="None",
        state=None,
        status=None,
        is_intersect=True,
        bulk_messages=False,
        primary_id="roleprivilegeid",
    )
    systemuserroles = table(
        "systemuserroles",
        "systemuserrolescollection",
        44,
        None,
        [lookup("systemuserid", "systemuser"), lookup("roleid", "role")],
        ownership="None",
        state=None,
        status=None,
        is_intersect=True,
        bulk_messages=False,
        primary_id="systemuserroleid",
    )
    publisher = table(
        "publisher",
        "publishers",
        7101,
        "friendlyname",
        [
            s("uniquename", 256),
            s("friendlyname", 256),
            s("customizationprefix", 8),
            a("customizationoptionvalueprefix", "Integer"),
        ],
        ownership="None",
        state=None,
        status=None,
    )
    solution = table(
        "solution",
        "solutions",
        7100,
        "friendlyname",
        [
            s("uniquename", 65),
            s("friendlyname", 256),
            s("version", 256),
            a("ismanaged", "Boolean"),
            lookup("publisherid", "publisher"),
        ],
        ownership="None",
        state=None,
        status=None,
    )
    return [
        org,
        businessunit,
        systemuser,
        team,
        role,
        privilege,
        roleprivileges,
        systemuserroles,
        publisher,
        solution,
    ]


def builtin_entities() -> list[Entity]:
    entities = [
        _contact(),
        _account(),
        _lead(),
        _list(),
        _listmember(),
        _campaign(),
        _campaignitem(),
        *_security(),
    ]
    for entity in entities:
        # System tables are not customizable and are not offered to the bulk messages here.
        if entity.logical_name in (
            "organization",
            "businessunit",
            "privilege",
            "publisher",
            "solution",
            "team",
            "role",
            "systemuser",
        ):
            entity.bulk_messages = False
    return entities


def builtin_one_to_many() -> list[OneToMany]:
    """Relationship names from the entity reference pages (e.g. ``contact_customer_accounts``)."""
    rels = [
        OneToMany(
            "contact_customer_accounts",
            "account",
            "contact",
            "parentcustomerid",
            referencing_nav="parentcustomerid_account",
        ),
        OneToMany(
            "contact_customer_contacts",
            "contact",
            "contact",
            "parentcustomerid",
            referencing_nav="parentcustomerid_contact",
        ),
        OneToMany("contact_master_contact", "contact", "contact", "masterid"),
        OneToMany("account_primary_contact", "contact", "account", "primarycontactid"),
        OneToMany("account_parent_account", "account", "account", "parentaccountid"),
        OneToMany("account_master_account", "account", "account", "masterid"),
        OneToMany("lead_master_lead", "lead", "lead", "masterid"),
        OneToMany("list_listmembers", "list", "listmember", "listid", cascade_delete="Cascade"),
        OneToMany(
            "contact_listmember",
            "contact",
            "listmember",
            "entityid",
            referencing_nav="entityid_contact",
            cascade_delete="Cascade",
        ),
        OneToMany(
            "account_listmember",
            "account",
            "listmember",
            "entityid",
            referencing_nav="entityid_account",
            cascade_delete="Cascade",
        ),
        OneToMany(
            "lead_listmember",
            "lead",
            "listmember",
            "entityid",
            referencing_nav="entityid_lead",
            cascade_delete="Cascade",
        ),
        OneToMany(
            "campaign_campaignitems",
            "campaign",
            "campaignitem",
            "campaignid",
            cascade_delete="Cascade",
        ),
        OneToMany("business_unit_system_users", "businessunit", "systemuser", "businessunitid"),
        OneToMany("business_unit_roles", "businessunit", "role", "businessunitid"),
        OneToMany("business_unit_teams", "businessunit", "team", "businessunitid"),
        OneToMany(
            "solution_publisher",
            "publisher",
            "solution",
            "publisherid",
            referencing_nav="publisherid",
        ),
    ]
    owned = ("contact", "account", "lead", "list", "campaign")
    for name in owned:
        rels.append(
            OneToMany(f"user_{name}", "systemuser", name, "ownerid", referencing_nav="owninguser")
        )
        rels.append(
            OneToMany(f"team_{name}", "team", name, "ownerid", referencing_nav="owningteam")
        )
    return rels


def builtin_many_to_many() -> list[ManyToMany]:
    return [
        ManyToMany(
            "listcontact_association", "list", "contact", "listmember", "listid", "entityid"
        ),
        ManyToMany(
            "listaccount_association", "list", "account", "listmember", "listid", "entityid"
        ),
        ManyToMany("listlead_association", "list", "lead", "listmember", "listid", "entityid"),
        ManyToMany(
            "campaignlist_association", "campaign", "list", "campaignitem", "campaignid", "entityid"
        ),
        ManyToMany(
            "systemuserroles_association",
            "systemuser",
            "role",
            "systemuserroles",
            "systemuserid",
            "roleid",
        ),
        ManyToMany(
            "roleprivileges_association",
            "role",
            "privilege",
            "roleprivileges",
            "roleid",
            "privilegeid",
        ),
    ]
