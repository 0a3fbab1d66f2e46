"""The connector's four security roles (SPEC 2), as data: table × privilege × depth.

Transcribed from the French source's "Rôles organisationnels" section, one grant per
clause, each carrying the clause it comes from. Vocabulary (Dynamics' French UI):
*Créer* Create, *Lire* Read, *Modifier* Write, *Supprimer* Delete, *Ajouter* Append,
*Ajouter à* / *annexer* / *joindre* Append To, *Attribuer* Assign, *Partager* Share;
"pour l'ensemble de l'organisation" is Organization depth, "leurs enregistrements" without
it is User depth. Where the source is odd, the grant says so in ``note`` and
``docs/connector-schema.md`` lists it; nothing is silently "fixed".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum, StrEnum

from reconcile.dataverse.schema import BY_KEY, CRM_TABLES


class Privilege(StrEnum):
    CREATE = "Create"
    READ = "Read"
    WRITE = "Write"
    DELETE = "Delete"
    APPEND = "Append"
    APPEND_TO = "AppendTo"
    ASSIGN = "Assign"
    SHARE = "Share"


class Depth(Enum):
    """Access level. ``value`` is the Web API ``PrivilegeDepth`` name (what
    ``AddPrivilegesRole`` takes), ``rank`` orders them."""

    USER = "Basic"
    BUSINESS_UNIT = "Local"
    PARENT_CHILD = "Deep"
    ORGANIZATION = "Global"

    @property
    def rank(self) -> int:
        return list(Depth).index(self)

    @property
    def label(self) -> str:
        return {
            "Basic": "User",
            "Local": "Business Unit",
            "Deep": "Parent: Child Business Units",
            "Global": "Organization",
        }[self.value]

    @classmethod
    def parse(cls, value: object) -> Depth:
        """From ``"Global"``, ``"Basic"`` …, the enum number 0–3, or a role-privilege depth
        mask (1, 2, 4, 8)."""
        if isinstance(value, str) and not value.isdigit():
            for depth in cls:
                if value.lower() in (depth.value.lower(), depth.name.lower()):
                    return depth
            raise ValueError(f"not a privilege depth: {value!r}")
        number = int(value)  # type: ignore[call-overload]
        masks = {1: cls.USER, 2: cls.BUSINESS_UNIT, 4: cls.PARENT_CHILD, 8: cls.ORGANIZATION}
        by_enum = {0: cls.USER, 1: cls.BUSINESS_UNIT, 2: cls.PARENT_CHILD, 3: cls.ORGANIZATION}
        if number in by_enum:
            return by_enum[number]
        if number in masks:
            return masks[number]
        raise ValueError(f"not a privilege depth: {value!r}")


ALL = frozenset(Privilege)
C, R, W, D = Privilege.CREATE, Privilege.READ, Privilege.WRITE, Privilege.DELETE
A, AT, AS, S = Privilege.APPEND, Privilege.APPEND_TO, Privilege.ASSIGN, Privilege.SHARE
ORG, USER = Depth.ORGANIZATION, Depth.USER


@dataclass(frozen=True)
class Grant:
    table: str  # "contact", "list", "campaign", or a connector table key ("lists", …)
    privileges: frozenset[Privilege]
    depth: Depth
    source: str  # the French clause it comes from
    note: str | None = None


@dataclass(frozen=True)
class Role:
    key: str
    name: str  # the security role's name in Dynamics
    description: str
    grants: tuple[Grant, ...]

    def required(self) -> dict[tuple[str, Privilege], Depth]:
        """(table, privilege) → depth, the deepest grant winning."""
        out: dict[tuple[str, Privilege], Depth] = {}
        for grant in self.grants:
            for privilege in grant.privileges:
                current = out.get((grant.table, privilege))
                if current is None or grant.depth.rank > current.rank:
                    out[(grant.table, privilege)] = grant.depth
        return out


def g(
    table: str, privileges: Iterable[Privilege], depth: Depth, source: str, note: str | None = None
) -> Grant:
    return Grant(table, frozenset(privileges), depth, source, note)


NO_READ_NOTE = (
    "The source lists no Read here (only create/write/delete/assign/share); transcribed as written."
)

ADMINISTRATOR = Role(
    "administrator",
    "GetResponse Connection Administrator",
    "Administers the integration: the only role that creates GetResponse lists.",
    (
        g(
            "contact",
            [C, W, D, AS, S],
            ORG,
            "Créer, modifier, supprimer, attribuer et partager leurs enregistrements de contacts "
            "CRM pour l'ensemble de l'organisation",
            NO_READ_NOTE,
        ),
        g(
            "list",
            [C, R, A, AT, AS, S],
            ORG,
            "Créer, lire, ajouter, annexer, attribuer et partager des enregistrements de listes "
            "marketing pour l'ensemble de l'organisation",
        ),
        g(
            "list",
            [W, D],
            USER,
            "ainsi que modifier et supprimer leurs enregistrements de listes marketing",
        ),
        g(
            "campaign",
            [C, AS, S],
            USER,
            "Créer, attribuer et partager leurs enregistrements de campagne",
        ),
        g(
            "campaign",
            [R, AT],
            ORG,
            "et lire et annexer les enregistrements de campagne pour l'ensemble de l'organisation",
        ),
        g(
            "activities",
            [R, A, AT, AS, S],
            ORG,
            "Lire, ajouter, annexer, attribuer et partager les enregistrements d'activité "
            "GetResponse pour l'ensemble de l'organisation",
        ),
        g(
            "contacts",
            [R, W, AT, AS, S],
            ORG,
            "Lire, modifier, annexer, attribuer, partager les enregistrements de contacts "
            "GetResponse pour l'ensemble de l'organisation",
        ),
        g(
            "lists",
            ALL,
            ORG,
            "Créer, lire, modifier, supprimer, ajouter, joindre, attribuer, partager des "
            "enregistrements de listes GetResponse pour l'ensemble de l'organisation",
        ),
        g(
            "custom_fields",
            [R],
            ORG,
            "Lire les enregistrements de champs personnalisés GetResponse pour l'ensemble de "
            "l'organisation",
        ),
        g(
            "templates",
            [R, A],
            ORG,
            "Lire et ajouter des enregistrements de modèles GetResponse pour l'ensemble de "
            "l'organisation",
        ),
        g(
            "newsletters",
            [C, R, W, A],
            ORG,
            "Créer, lire, modifier, ajouter des Newsletters GetResponse pour l'ensemble de "
            "l'organisation",
        ),
    ),
)

CONNECTION_USER = Role(
    "user",
    "GetResponse Connection User",
    "Works with the integration day to day: newsletters, GetResponse contacts.",
    (
        g(
            "contact",
            [C, W, D, AS, S],
            ORG,
            "Créer, modifier, supprimer, attribuer, partager ses enregistrements de contacts CRM "
            "pour l'ensemble de l'organisation",
            NO_READ_NOTE,
        ),
        g(
            "list",
            [C, R, W, D, A, AT],
            USER,
            "Créer, lire, modifier, supprimer, ajouter, ajouter à leurs enregistrements de listes "
            "marketing",
        ),
        g(
            "campaign",
            [R, A],
            ORG,
            "Lire et ajouter des enregistrements de campagne pour l'ensemble de l'organisation",
        ),
        g(
            "activities",
            [R, A, AS, S],
            ORG,
            "Lire, ajouter, attribuer, partager les enregistrements d'activité GetResponse pour "
            "l'ensemble de l'organisation",
        ),
        g(
            "contacts",
            [R, W, A, AT, AS, S],
            ORG,
            "Lire, modifier, ajouter, annexer, attribuer, partager les enregistrements de contacts "
            "GetResponse pour l'ensemble de l'organisation",
        ),
        g(
            "lists",
            [R],
            ORG,
            "Lire les enregistrements de listes GetResponse pour l'ensemble de l'organisation",
        ),
        g(
            "custom_fields",
            [R],
            ORG,
            "Lire les enregistrements de champs personnalisés GetResponse pour l'ensemble de "
            "l'organisation",
        ),
        g(
            "templates",
            [R, A],
            ORG,
            "Lire et ajouter des enregistrements de modèles GetResponse pour l'ensemble de "
            "l'organisation",
        ),
        g(
            "newsletters",
            [C, R, W, A],
            USER,
            "Créer, lire, modifier et ajouter leurs enregistrements de newsletter GetResponse",
        ),
    ),
)

READ_ONLY = Role(
    "read_only",
    "GetResponse Read-only",
    "Reads everything the integration shows, changes nothing.",
    (
        g(
            "contact",
            [R],
            ORG,
            "Lire les enregistrements de contacts CRM pour l'ensemble de l'organisation",
        ),
        g(
            "list",
            [R],
            ORG,
            "Lire les enregistrements de listes marketing pour l'ensemble de l'organisation",
        ),
        g(
            "campaign",
            [R],
            ORG,
            "Lire les enregistrements de campagnes pour l'ensemble de l'organisation",
        ),
        g(
            "activities",
            [R],
            ORG,
            "Lire les enregistrements d'activité GetResponse pour l'ensemble de l'organisation",
        ),
        g(
            "contacts",
            [R],
            ORG,
            "Lire les enregistrements de contacts GetResponse pour l'ensemble de l'organisation",
        ),
        g(
            "lists",
            [R],
            ORG,
            "Lire les enregistrements de prospects GetResponse pour l'ensemble de l'organisation",
            "The source says 'prospects GetResponse' (GetResponse leads), a table the connector "
            "does not have, and is the only role not to mention GetResponse lists: read as "
            "GetResponse lists.",
        ),
        g(
            "custom_fields",
            [R],
            ORG,
            "Lire les enregistrements de champs personnalisés GetResponse pour l'ensemble de "
            "l'organisation",
        ),
        g(
            "templates",
            [R],
            ORG,
            "Lire les enregistrements de modèles GetResponse pour l'ensemble de l'organisation",
        ),
        g(
            "newsletters",
            [R],
            ORG,
            "Lire les enregistrements de newsletters GetResponse pour l'ensemble de l'organisation",
        ),
    ),
)

SERVICE_USER = Role(
    "service_user",
    "GetResponse Service User",
    "The application user the connector itself runs as.",
    (
        g(
            "contact",
            [R, A, AT],
            ORG,
            "Lire, ajouter, ajouter aux enregistrements de contacts CRM pour l'ensemble de "
            "l'organisation",
        ),
        g(
            "list",
            [R, A, AT],
            ORG,
            "Lire, ajouter, ajouter aux enregistrements de listes marketing pour l'ensemble de "
            "l'organisation",
        ),
        g(
            "campaign",
            [R, A, AT],
            ORG,
            "Lire, ajouter, ajouter aux enregistrements de campagnes pour l'ensemble de "
            "l'organisation",
        ),
        g(
            "activities",
            ALL,
            ORG,
            "Lire les enregistrements d'activité GetResponse pour l'ensemble de l'organisation",
            "The source says Read only, but the connector's own activities sync creates these "
            "records, links them to contacts and newsletters and removes them after the "
            "retention period (SPEC 5.5): the role also holds Create, Write, Delete, Append, "
            "Append To, Assign and Share.",
        ),
        g(
            "contacts",
            ALL,
            ORG,
            "Créer, lire, modifier, supprimer, ajouter, joindre, attribuer, partager des "
            "enregistrements de contacts GetResponse pour l'ensemble de l'organisation",
        ),
        g(
            "lists",
            ALL,
            ORG,
            "Créer, lire, supprimer, ajouter, annexer, attribuer, partager des enregistrements de "
            "liste GetResponse pour l'ensemble de l'organisation",
            "No Write (modifier) listed, but the connector's own lists sync sets list statuses, "
            "'Is created in GetResponse' and errors (SPEC 4.3-4.5): the role also holds Write.",
        ),
        g(
            "custom_fields",
            ALL,
            ORG,
            "Créer, lire, modifier, supprimer, ajouter, ajouter à, attribuer, partager des "
            "enregistrements de champs personnalisés GetResponse pour l'ensemble de "
            "l'organisation",
        ),
        g(
            "templates",
            ALL,
            ORG,
            "Créer, lire, modifier, supprimer, ajouter, ajouter à, attribuer, partager des "
            "enregistrements de modèles GetResponse pour l'ensemble de l'organisation",
        ),
        g(
            "newsletters",
            ALL,
            ORG,
            "Créer, lire, modifier, supprimer, annexer, attribuer, partager des enregistrements de "
            "newsletter GetResponse pour l'ensemble de l'organisation",
            "No Append (ajouter) listed, but the connector's own newsletters sync links the "
            "newsletters created in GetResponse to their template and marketing list (SPEC "
            "7.3), which needs Append: the role also holds it.",
        ),
    ),
)

ROLES: tuple[Role, ...] = (ADMINISTRATOR, CONNECTION_USER, READ_ONLY, SERVICE_USER)
BY_ROLE_KEY = {r.key: r for r in ROLES}


def table_schema_name(table: str) -> str:
    """The SchemaName privilege names are built from (``Contact``, ``grc_GetResponseList``)."""
    if table in CRM_TABLES:
        return CRM_TABLES[table].schema_name
    return BY_KEY[table].schema_name


def table_display(table: str) -> str:
    if table in CRM_TABLES:
        return CRM_TABLES[table].display
    return BY_KEY[table].display


def privilege_name(table: str, privilege: Privilege) -> str:
    """``prvReadContact``, ``prvAppendTogrc_GetResponseList``."""
    return f"prv{privilege.value}{table_schema_name(table)}"


@dataclass(frozen=True)
class Shortfall:
    """One privilege a principal lacks (or holds at too shallow a depth)."""

    table: str
    privilege: Privilege
    required: Depth
    held: Depth | None

    def __str__(self) -> str:
        have = "not held" if self.held is None else f"held at {self.held.label} level only"
        return (
            f"{privilege_name(self.table, self.privilege)} ({self.privilege.value} on "
            f"{table_display(self.table)}, {self.required.label} level): {have}"
        )


def shortfalls(
    required: dict[tuple[str, Privilege], Depth], held: dict[str, Depth]
) -> list[Shortfall]:
    """What ``held`` (privilege name, lower-case → deepest depth) lacks of ``required``."""
    missing = []
    for (table, privilege), depth in sorted(required.items(), key=lambda x: (x[0][0], x[0][1])):
        have = held.get(privilege_name(table, privilege).lower())
        if have is None or have.rank < depth.rank:
            missing.append(Shortfall(table, privilege, depth, have))
    return missing
