"""The connector's security roles in an environment, and what the running identity holds.

- :func:`install_roles` creates the four roles of ``roles.py`` in the root business unit
  (as the connector's solution ships them) and gives each its privileges with
  ``AddPrivilegesRole``, so that an administrator only has to assign them.
- :func:`check_roles` says which roles are missing or lack privileges.
- :func:`check_identity` compares what the running identity holds
  (``RetrieveUserPrivileges``) with what a role needs — by default the service user's —
  and lists exactly what is missing.

Privileges are addressed by name (``prv<Verb><SchemaName>``) and resolved to ids with one
read of the ``privileges`` table; depths arrive as ``Basic``/``Local``/``Deep``/``Global``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconcile.dataverse import query as q
from reconcile.dataverse import roles as r
from reconcile.dataverse.errors import RecordNotFound
from reconcile.dataverse.resources import who_am_i
from reconcile.progress import SILENT, Progress

if TYPE_CHECKING:
    from reconcile.dataverse.client import DataverseClient

_NAMES_PER_READ = 40


def privilege_ids(client: DataverseClient, names: Iterable[str]) -> dict[str, str]:
    """Privilege name (lower-case) → privilege id, for the names that exist."""
    wanted = sorted({n for n in names})
    found: dict[str, str] = {}
    for start in range(0, len(wanted), _NAMES_PER_READ):
        part = wanted[start : start + _NAMES_PER_READ]
        query = q.Query(select=("privilegeid", "name"), filter=q.in_("name", part))
        for row in client.query("privileges", query):
            found[str(row["name"]).lower()] = str(row["privilegeid"]).lower()
    return found


def _deepest(pairs: Iterable[tuple[str, object]]) -> dict[str, r.Depth]:
    held: dict[str, r.Depth] = {}
    for key, raw in pairs:
        try:
            depth = r.Depth.parse(raw)
        except (ValueError, TypeError):
            continue
        if key not in held or depth.rank > held[key].rank:
            held[key] = depth
    return held


def _held(
    client: DataverseClient,
    rows: list[dict[str, Any]],
    needed: Iterable[str],
    ids: dict[str, str] | None = None,
) -> dict[str, r.Depth]:
    """Privilege name (lower-case) → deepest depth, from RolePrivilege rows.

    v9.x rows carry ``PrivilegeName``; older ones only ``PrivilegeId``, which is then
    resolved to names (``ids`` when the caller has them, else one read of ``privileges``).
    """
    if all(row.get("PrivilegeName") for row in rows):
        return _deepest((str(row["PrivilegeName"]).lower(), row.get("Depth")) for row in rows)
    by_id = _deepest((str(row.get("PrivilegeId", "")).lower(), row.get("Depth")) for row in rows)
    known = ids if ids is not None else privilege_ids(client, needed)
    return {name: by_id[pid] for name, pid in known.items() if pid in by_id}


def user_privileges(client: DataverseClient, user_id: str) -> list[dict[str, Any]]:
    """The RolePrivilege rows of everything the user holds through all their roles."""
    data = client.function(
        "RetrieveUserPrivileges",
        bound_to=f"systemusers({q.as_guid(user_id)})",
        record=f"the privileges of user {user_id}",
    )
    return list(data.get("RolePrivileges") or [])


def role_privileges(client: DataverseClient, role_id: str) -> list[dict[str, Any]]:
    """The RolePrivilege rows of one role (``RetrieveRolePrivilegesRole``, an unbound
    function taking ``RoleId``)."""
    data = client.function(
        "RetrieveRolePrivilegesRole",
        {"RoleId": q.as_guid(role_id)},
        record=f"the privileges of role {role_id}",
    )
    return list(data.get("RolePrivileges") or [])


def _needed_names(roles: Iterable[r.Role]) -> set[str]:
    return {r.privilege_name(t, p) for role in roles for (t, p) in role.required()}


def root_business_unit(client: DataverseClient) -> str:
    query = q.Query(
        select=("businessunitid", "name"), filter=q.eq("_parentbusinessunitid_value", None)
    )
    for row in client.query("businessunits", query):
        return str(row["businessunitid"]).lower()
    raise RecordNotFound(
        "Dataverse returned no root business unit (one without a parent).",
        record="businessunits",
        hint="The identity needs read access to business units (prvReadBusinessUnit).",
    )


def find_role(client: DataverseClient, name: str, business_unit: str) -> str | None:
    query = q.Query(
        select=("roleid", "name"),
        filter=q.eq("name", name) & q.eq("_businessunitid_value", q.as_guid(business_unit)),
    )
    for row in client.query("roles", query):
        return str(row["roleid"]).lower()
    return None


@dataclass
class RoleStatus:
    key: str
    name: str
    role_id: str | None
    missing: list[r.Shortfall] = field(default_factory=list)
    unknown_privileges: list[str] = field(default_factory=list)  # their table is not installed

    @property
    def ok(self) -> bool:
        return self.role_id is not None and not self.missing

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.name,
            "exists": self.role_id is not None,
            "missing": [str(s) for s in self.missing],
            "unknown_privileges": self.unknown_privileges,
        }


@dataclass
class SecurityReport:
    roles: list[RoleStatus]
    created: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.roles)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "roles": [s.to_json() for s in self.roles], "created": self.created}


def check_roles(client: DataverseClient, roles: Iterable[r.Role] = r.ROLES) -> SecurityReport:
    chosen = list(roles)
    business_unit = root_business_unit(client)
    needed = _needed_names(chosen)
    ids = privilege_ids(client, needed)
    statuses = []
    for role in chosen:
        role_id = find_role(client, role.name, business_unit)
        rows = role_privileges(client, role_id) if role_id else []
        held = _held(client, rows, needed, ids)
        statuses.append(_status(role, role_id, ids, held))
    return SecurityReport(statuses)


def _status(
    role: r.Role, role_id: str | None, ids: dict[str, str], held: dict[str, r.Depth]
) -> RoleStatus:
    required = role.required()
    return RoleStatus(
        role.key,
        role.name,
        role_id,
        r.shortfalls(required, held),
        sorted(
            {
                r.privilege_name(t, p)
                for (t, p) in required
                if r.privilege_name(t, p).lower() not in ids
            }
        ),
    )


def install_roles(
    client: DataverseClient, roles: Iterable[r.Role] = r.ROLES, *, progress: Progress = SILENT
) -> SecurityReport:
    """Create missing roles and add missing privileges; idempotent. Privileges of tables
    that are not installed yet cannot be added (install the tables first)."""
    chosen = list(roles)
    business_unit = root_business_unit(client)
    needed = _needed_names(chosen)
    ids = privilege_ids(client, needed)
    created: list[str] = []
    with progress.task("Installing the GetResponse security roles", total=len(chosen)) as task:
        for role in chosen:
            role_id = find_role(client, role.name, business_unit)
            if role_id is None:
                role_id = client.create(
                    "roles",
                    {
                        "name": role.name,
                        "businessunitid@odata.bind": f"/businessunits({business_unit})",
                    },
                    id_column="roleid",
                    record=f"security role {role.name!r}",
                )
                created.append(f"role {role.name}")
            held = _held(client, role_privileges(client, role_id), needed, ids)
            to_add = [
                {
                    "PrivilegeId": ids[r.privilege_name(s.table, s.privilege).lower()],
                    "Depth": s.required.value,
                }
                for s in r.shortfalls(role.required(), held)
                if r.privilege_name(s.table, s.privilege).lower() in ids
            ]
            if to_add:
                client.action(
                    "AddPrivilegesRole",
                    {"Privileges": to_add},
                    bound_to=f"roles({role_id})",
                    idempotent=True,
                    record=f"privileges of security role {role.name!r}",
                )
                created.append(f"{len(to_add)} privileges on role {role.name}")
            task.advance()
    report = check_roles(client, chosen)
    report.created = created
    return report


@dataclass
class IdentityReport:
    user_id: str
    role: str
    missing: list[r.Shortfall]

    @property
    def ok(self) -> bool:
        return not self.missing

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "user_id": self.user_id,
            "compared_with": self.role,
            "missing": [str(s) for s in self.missing],
        }


def check_identity(
    client: DataverseClient,
    role: r.Role = r.SERVICE_USER,
    *,
    user_id: str | None = None,
) -> IdentityReport:
    """What the running identity (or ``user_id``) lacks of what ``role`` grants."""
    uid = user_id or who_am_i(client).user_id
    held = _held(client, user_privileges(client, uid), _needed_names([role]))
    return IdentityReport(uid, role.name, r.shortfalls(role.required(), held))


def held_privileges(
    client: DataverseClient, names: Iterable[str], *, user_id: str | None = None
) -> dict[str, r.Depth]:
    """The deepest depth at which the running identity (or ``user_id``) holds each of these
    privileges (``prvWriteContact`` …); one not held is absent. For a job that checks one
    extra privilege before it writes (a setting beyond the connector's roles)."""
    uid = user_id or who_am_i(client).user_id
    wanted = {n.lower() for n in names}
    held = _held(client, user_privileges(client, uid), wanted)
    return {name: depth for name, depth in held.items() if name in wanted}
