"""Security: the organization, its root business unit, privileges, roles and identities.

Every table gets the eight record privileges ``prv<Action><SchemaName>`` (Create, Read, Write,
Delete, Append, AppendTo, Assign, Share) as Dataverse creates them; a few customization
privileges (``prvCreateEntity`` …) guard the metadata API. Roles hold privileges with a depth
(Basic 1, Local 2, Deep 4, Global 8); users hold roles. The *System Administrator* role holds
every privilege, including those of tables created later. The sandbox checks that the caller
holds the privilege at any depth; it does not scope Basic/Local depths to owned rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconcile.sandbox.dataverse.api import Principal
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.models import Entity, stable_guid
from reconcile.sandbox.dataverse.store import Store

ACCESS_RIGHTS = {
    "Read": 1,
    "Write": 2,
    "Append": 4,
    "AppendTo": 16,
    "Create": 32,
    "Delete": 65536,
    "Share": 262144,
    "Assign": 524288,
}
ACCESS_NAMES = {
    "Read": "ReadAccess",
    "Write": "WriteAccess",
    "Append": "AppendAccess",
    "AppendTo": "AppendToAccess",
    "Create": "CreateAccess",
    "Delete": "DeleteAccess",
    "Share": "ShareAccess",
    "Assign": "AssignAccess",
}
DEPTHS = {1: "Basic", 2: "Local", 4: "Deep", 8: "Global"}
CUSTOMIZATION_PRIVILEGES = (
    "prvCreateEntity",
    "prvReadEntity",
    "prvWriteEntity",
    "prvDeleteEntity",
    "prvCreateAttribute",
    "prvReadAttribute",
    "prvWriteAttribute",
    "prvDeleteAttribute",
    "prvCreateRelationship",
    "prvReadRelationship",
    "prvWriteRelationship",
    "prvDeleteRelationship",
    "prvCreateEntityKey",
    "prvReadEntityKey",
    "prvDeleteEntityKey",
    "prvPublishCustomizations",
    "prvCreateSolution",
    "prvReadSolution",
    "prvCreatePublisher",
    "prvReadPublisher",
)
# Intersect tables take their privileges from the table they hang off.
PRIVILEGE_OWNER = {
    "listmember": "list",
    "campaignitem": "campaign",
    "roleprivileges": "role",
    "systemuserroles": "systemuser",
}
ORGANIZATION_ID = stable_guid("organization")
ROOT_BUSINESS_UNIT_ID = stable_guid("businessunit", "root")
ADMIN_ROLE_ID = stable_guid("role", "System Administrator")
DEFAULT_PUBLISHER_ID = stable_guid("publisher", "DefaultPublisher")


def privilege_schema(entity: Entity) -> str:
    if entity.logical_name == "systemuser":
        return "User"
    return entity.schema_name


def privilege_name(action: str, entity: Entity) -> str:
    return f"prv{action}{privilege_schema(entity)}"


def privilege_id(name: str) -> str:
    return stable_guid("privilege", name.lower())


@dataclass
class Identity:
    """An application (client credentials) mapped to an application user."""

    label: str
    client_id: str
    client_secret: str
    user_id: str


class Security:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------------------- setup
    def ensure_base(self) -> None:
        """Organization, root business unit, privileges and the System Administrator role."""
        catalog = self.store.catalog
        org, unit, role = (catalog.entities[n] for n in ("organization", "businessunit", "role"))
        if self.store.exists(org, ORGANIZATION_ID):
            return
        self._insert(org, {"organizationid": ORGANIZATION_ID, "name": "Reconcile Sandbox"})
        self._insert(unit, {"businessunitid": ROOT_BUSINESS_UNIT_ID, "name": "Reconcile Sandbox"})
        for entity in list(catalog.entities.values()):
            self.add_table_privileges(entity)
        for name in CUSTOMIZATION_PRIVILEGES:
            self._privilege(name, 0)
        self._insert(
            role,
            {
                "roleid": ADMIN_ROLE_ID,
                "name": "System Administrator",
                "businessunitid": ROOT_BUSINESS_UNIT_ID,
            },
        )
        publisher, solution = catalog.entities["publisher"], catalog.entities["solution"]
        self._insert(
            publisher,
            {
                "publisherid": DEFAULT_PUBLISHER_ID,
                "uniquename": "DefaultPublisher",
                "friendlyname": "Default Publisher",
                "customizationprefix": "new",
                "customizationoptionvalueprefix": 10000,
            },
        )
        self._insert(
            solution,
            {
                "solutionid": stable_guid("solution", "Default"),
                "uniquename": "Default",
                "friendlyname": "Default Solution",
                "version": "1.0",
                "ismanaged": 0,
                "publisherid": DEFAULT_PUBLISHER_ID,
            },
        )

    def _insert(self, entity: Entity, values: dict[str, object]) -> None:
        version = self.store.next_version()
        self.store.insert(
            entity, [self.store.stamp(entity, values, user=None, create=True, version=version)]
        )

    def _privilege(self, name: str, access_right: int) -> None:
        entity = self.store.catalog.entities["privilege"]
        if not self.store.exists(entity, privilege_id(name)):
            self._insert(
                entity,
                {
                    "privilegeid": privilege_id(name),
                    "name": name,
                    "accessright": access_right,
                    "canbebasic": 1,
                    "canbelocal": 1,
                    "canbedeep": 1,
                    "canbeglobal": 1,
                },
            )

    def add_table_privileges(self, entity: Entity) -> None:
        if entity.logical_name in PRIVILEGE_OWNER:
            return
        for action, right in ACCESS_RIGHTS.items():
            self._privilege(privilege_name(action, entity), right)

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        application_id: str | None = None,
        roles: tuple[str, ...] = (),
    ) -> None:
        entity = self.store.catalog.entities["systemuser"]
        if not self.store.exists(entity, user_id):
            first, _, last = name.partition(" ")
            self._insert(
                entity,
                {
                    "systemuserid": user_id,
                    "fullname": name,
                    "firstname": first,
                    "lastname": last or first,
                    "applicationid": application_id,
                    "accessmode": 4 if application_id else 0,
                    "isdisabled": 0,
                    "businessunitid": ROOT_BUSINESS_UNIT_ID,
                    "domainname": f"{name.lower().replace(' ', '.')}@sandbox.local",
                },
            )
        for role_id in roles:
            self.assign_role(user_id, role_id)

    def assign_role(self, user_id: str, role_id: str) -> None:
        link = self.store.catalog.entities["systemuserroles"]
        exists = self.store.scalar(
            'SELECT 1 FROM "t_systemuserroles" WHERE systemuserid = ? AND roleid = ?',
            (user_id, role_id),
        )
        if not exists:
            self._insert(
                link,
                {
                    "systemuserroleid": stable_guid("sur", user_id, role_id),
                    "systemuserid": user_id,
                    "roleid": role_id,
                },
            )

    def grant(self, role_id: str, privilege: str, depth: int = 8) -> None:
        """Give a role a privilege (by name) at a depth, replacing any earlier depth."""
        link = self.store.catalog.entities["roleprivileges"]
        pid = privilege_id(privilege)
        if not self.store.exists(self.store.catalog.entities["privilege"], pid):
            raise DataverseError("ObjectDoesNotExist", entity="privilege", id=pid)
        self.store.conn.execute(
            "DELETE FROM t_roleprivileges WHERE roleid = ? AND privilegeid = ?", (role_id, pid)
        )
        self._insert(
            link,
            {
                "roleprivilegeid": stable_guid("rp", role_id, pid),
                "roleid": role_id,
                "privilegeid": pid,
                "privilegedepthmask": depth,
            },
        )

    # ------------------------------------------------------------------------ checks
    def roles_of(self, user_id: str) -> list[str]:
        return [
            r[0]
            for r in self.store.rows(
                "SELECT roleid FROM t_systemuserroles WHERE systemuserid = ?", (user_id,)
            )
        ]

    def privileges_of(self, user_id: str) -> dict[str, tuple[str, int]]:
        """{privilege name: (privilege id, deepest depth)} the user holds through any role."""
        roles = self.roles_of(user_id)
        if ADMIN_ROLE_ID in roles:
            return {
                name: (pid, 8)
                for pid, name in self.store.rows("SELECT privilegeid, name FROM t_privilege")
            }
        held: dict[str, tuple[str, int]] = {}
        for pid, name, depth in self.store.rows(
            "SELECT p.privilegeid, p.name, rp.privilegedepthmask FROM t_roleprivileges rp "
            "JOIN t_privilege p ON p.privilegeid = rp.privilegeid JOIN t_systemuserroles ur "
            "ON ur.roleid = rp.roleid WHERE ur.systemuserid = ?",
            (user_id,),
        ):
            if name not in held or (depth or 0) > held[name][1]:
                held[name] = (pid, depth or 0)
        return held

    def has(self, user: Principal, privilege: str) -> bool:
        roles = self.roles_of(user.user_id)
        if ADMIN_ROLE_ID in roles:
            return True
        return bool(
            self.store.scalar(
                "SELECT 1 FROM t_roleprivileges rp JOIN t_systemuserroles ur "
                "ON ur.roleid = rp.roleid WHERE ur.systemuserid = ? AND rp.privilegeid = ? LIMIT 1",
                (user.user_id, privilege_id(privilege)),
            )
        )

    def require(self, user: Principal, action: str, entity: Entity) -> None:
        owner = self.store.catalog.entities.get(
            PRIVILEGE_OWNER.get(entity.logical_name, ""), entity
        )
        if entity.logical_name in PRIVILEGE_OWNER and action in ("Create", "Delete", "Write"):
            action = "Write"  # changing membership rows is writing the parent
        self.require_named(user, privilege_name(action, owner), owner)

    def require_named(self, user: Principal, privilege: str, entity: Entity | None = None) -> None:
        if self.has(user, privilege):
            return
        roles = self.roles_of(user.user_id)
        count = len(self.privileges_of(user.user_id))
        raise DataverseError(
            "PrivilegeDenied",
            user=user.user_id,
            roles=len(roles),
            privileges=count,
            privilege=privilege,
            privilege_id=privilege_id(privilege),
            otc=entity.object_type_code if entity else 0,
            entity=entity.logical_name if entity else "",
        )

    def access_rights(self, user: Principal, entity: Entity) -> str:
        owner = self.store.catalog.entities.get(
            PRIVILEGE_OWNER.get(entity.logical_name, ""), entity
        )
        rights = [
            ACCESS_NAMES[action]
            for action in ACCESS_RIGHTS
            if self.has(user, privilege_name(action, owner))
        ]
        return ", ".join(rights) if rights else "None"
