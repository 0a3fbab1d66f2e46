"""Row writes with the platform's rules: defaults, state/status pairs, computed names, ETags,
optimistic concurrency, upsert by key, duplicate detection and cascades.

These functions serve the HTTP handlers, ``$batch``, the bulk messages and the Python-side
seeding alike, so a row created any way is the same row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from reconcile.sandbox.dataverse import customizations
from reconcile.sandbox.dataverse.api import Principal
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.models import Entity, new_guid
from reconcile.sandbox.dataverse.security import Security
from reconcile.sandbox.dataverse.store import Store
from reconcile.sandbox.dataverse.values import PayloadParser

DEFAULT_DUPLICATE_RULES = {
    "contact": [["emailaddress1"]],
    "account": [["name"]],
    "lead": [["emailaddress1"]],
}
INTERSECT_MESSAGE = (
    "The '{method}' method does not support entities of type '{entity}'. "
    "MessageProcessorCache returned MessageProcessor.Empty."
)


@dataclass
class WriteResult:
    record_id: str
    created: bool
    version: int = 0


@dataclass
class Rows:
    store: Store
    security: Security
    parser: PayloadParser = field(init=False)

    def __post_init__(self) -> None:
        self.parser = PayloadParser(self.store)

    # -------------------------------------------------------------------------- rules
    def duplicate_rules(self) -> dict[str, list[list[str]]]:
        saved = self.store.setting("duplicate_rules")
        return json.loads(saved) if saved else DEFAULT_DUPLICATE_RULES

    def refuse_intersect(self, entity: Entity, method: str) -> None:
        if entity.is_intersect:
            raise DataverseError(
                "InvalidArgument",
                message=INTERSECT_MESSAGE.format(method=method, entity=entity.logical_name),
            )

    def _state_status(
        self, entity: Entity, values: dict[str, Any], current: dict[str, Any] | None
    ) -> None:
        if "statecode" not in entity.attributes:
            return
        state, status = values.get("statecode"), values.get("statuscode")
        if state is None and status is None and current is None:
            values["statecode"] = 0
            values["statuscode"] = entity.default_status.get(0)
            return
        if state is not None and status is None:
            assert isinstance(state, int)
            values["statuscode"] = entity.default_status.get(state)
        elif status is not None and state is None:
            assert isinstance(status, int)
            values["statecode"] = entity.status_state.get(
                status, current["statecode"] if current else 0
            )
        elif state is not None and entity.status_state.get(int(status or 0)) != state:
            raise DataverseError(
                "InvalidArgument",
                message=f"{status} is not a valid status code for state code {state} on "
                f"{entity.logical_name}.",
            )

    def _computed(
        self, entity: Entity, values: dict[str, Any], current: dict[str, Any] | None
    ) -> None:
        if (
            "fullname" in entity.attributes
            and entity.attributes["fullname"].readonly
            and ("firstname" in values or "lastname" in values or current is None)
        ):
            merged = {**(current or {}), **values}
            parts = [merged.get("firstname"), merged.get("lastname")]
            values["fullname"] = " ".join(p for p in parts if p) or None

    def _required(self, entity: Entity, values: dict[str, Any]) -> None:
        for attribute in entity.attributes.values():
            if (
                attribute.required == "SystemRequired"
                and values.get(attribute.logical_name) is None
            ):
                raise DataverseError(
                    "InvalidArgument",
                    message=f"Attribute '{attribute.logical_name}' cannot be NULL.",
                )

    def _detect_duplicates(self, entity: Entity, values: dict[str, Any], record_id: str) -> None:
        for columns in self.duplicate_rules().get(entity.logical_name, []):
            probe = {c: values.get(c) for c in columns}
            if any(v is None or v == "" for v in probe.values()):
                continue
            where = " AND ".join(f'"{c}" = ?' for c in columns)
            other = f'"{entity.primary_id}" != ?'
            if self.store.scalar(
                f'SELECT 1 FROM "{entity.table}" WHERE {where} AND {other} LIMIT 1',
                (*probe.values(), record_id),
            ):
                raise DataverseError("DuplicateRecordsFound")

    def _list_rules(
        self, entity: Entity, values: dict[str, Any], current: dict[str, Any] | None
    ) -> None:
        if entity.logical_name != "list":
            return
        if current is None:
            values.setdefault("type", 0)
            values["membercount"] = None if values.get("type") else 0
        elif current.get("statecode") == 1 and values.get("statecode", 1) == 1:
            raise DataverseError(
                "InvalidArgument", message="The marketing list is inactive and cannot be modified."
            )
        elif "type" in values and values["type"] != current.get("type"):
            raise DataverseError(
                "InvalidArgument",
                message="The type of a marketing list cannot be changed after it is created.",
            )

    # ------------------------------------------------------------------------ writes
    def prepare_create(
        self,
        user: Principal,
        entity: Entity,
        values: dict[str, Any],
        *,
        detect_duplicates: bool,
        version: int,
    ) -> dict[str, Any]:
        values = dict(values)
        record_id = values.pop(entity.primary_id, None) or new_guid()
        values = {entity.primary_id: record_id, **values}
        self._state_status(entity, values, None)
        self._computed(entity, values, None)
        self._list_rules(entity, values, None)
        if entity.logical_name in customizations.COMPONENT_TYPES:
            customizations.validate(self.store, entity, values)
        for attribute in entity.attributes.values():
            if attribute.type == "Boolean" and values.get(attribute.logical_name) is None:
                values[attribute.logical_name] = 0  # two-option columns default to false
        if "ownerid" in entity.attributes and values.get("ownerid") is None:
            values["ownerid"] = user.user_id
            values["ownerid__target"] = "systemuser"
        if "owningbusinessunit" in entity.attributes:
            values["owningbusinessunit"] = user.business_unit_id
        self._required(entity, values)
        if detect_duplicates:
            self._detect_duplicates(entity, values, record_id)
        return self.store.stamp(entity, values, user=user.user_id, create=True, version=version)

    def create(
        self,
        user: Principal,
        entity: Entity,
        body: Any,
        *,
        detect_duplicates: bool = False,
        check: bool = True,
    ) -> WriteResult:
        if check:
            self.refuse_intersect(entity, "Create")
            self.security.require(user, "Create", entity)
        values = self.parser.parse(entity, body, create=True)
        return self.create_values(user, entity, values, detect_duplicates=detect_duplicates)

    def create_values(
        self,
        user: Principal,
        entity: Entity,
        values: dict[str, Any],
        *,
        detect_duplicates: bool = False,
    ) -> WriteResult:
        version = self.store.next_version()
        row = self.prepare_create(
            user, entity, values, detect_duplicates=detect_duplicates, version=version
        )
        self.store.insert(entity, [row])
        return WriteResult(row[entity.primary_id], True, version)

    def update(
        self,
        user: Principal,
        entity: Entity,
        record_id: str,
        body: Any,
        *,
        detect_duplicates: bool = False,
        if_match: str | None = None,
        check: bool = True,
    ) -> WriteResult:
        if check:
            self.refuse_intersect(entity, "Update")
            self.security.require(user, "Write", entity)
        current = self.store.get(entity, record_id)
        if current is None:
            raise DataverseError("ObjectDoesNotExist", entity=entity.logical_name, id=record_id)
        self.check_etag(current, if_match)
        values = self.parser.parse(entity, body, create=False)
        return self.update_values(
            user, entity, current, values, detect_duplicates=detect_duplicates
        )

    def update_values(
        self,
        user: Principal,
        entity: Entity,
        current: dict[str, Any],
        values: dict[str, Any],
        *,
        detect_duplicates: bool = False,
    ) -> WriteResult:
        record_id = current[entity.primary_id]
        body_id = values.pop(entity.primary_id, None)
        if body_id is not None and body_id != record_id:
            raise DataverseError(
                "InvalidArgument",
                message=(
                    f"The primary key {entity.primary_id} in the body ({body_id}) does not match "
                    f"the record in the URL ({record_id})."
                ),
            )
        self._state_status(entity, values, current)
        self._computed(entity, values, current)
        self._list_rules(entity, values, current)
        if entity.logical_name in customizations.COMPONENT_TYPES:
            customizations.validate(self.store, entity, {**current, **values})
        if "ownerid" in values and values["ownerid"] is not None:
            self.security.require(user, "Assign", entity)
        if detect_duplicates:
            self._detect_duplicates(entity, {**current, **values}, record_id)
        version = self.store.next_version()
        stamped = self.store.stamp(entity, values, user=user.user_id, create=False, version=version)
        self.store.update(entity, record_id, stamped)
        return WriteResult(record_id, False, version)

    @staticmethod
    def check_etag(current: dict[str, Any] | None, if_match: str | None) -> None:
        if if_match is None or if_match.strip() == "*" or current is None:
            return
        wanted = [tag.strip() for tag in if_match.split(",")]
        if f'W/"{current.get("versionnumber")}"' not in wanted:
            raise DataverseError("ConcurrencyVersionMismatch")

    def upsert(
        self,
        user: Principal,
        entity: Entity,
        key_args: dict[str, Any],
        body: Any,
        *,
        if_match: str | None,
        if_none_match: str | None,
        detect_duplicates: bool = False,
    ) -> WriteResult:
        """PATCH to a key URL: update if the row exists, else create it (unless forbidden)."""
        self.refuse_intersect(entity, "Update")
        key_values = self.parser.key_values(entity, key_args)
        found = self.store.id_by_key(entity, key_values)
        if found is not None:
            if if_none_match is not None and if_none_match.strip() == "*":
                raise _already_exists()
            return self.update(
                user, entity, found, body, if_match=if_match, detect_duplicates=detect_duplicates
            )
        if if_match is not None:
            if set(key_args) == {""} or list(key_values) == [entity.primary_id]:
                raise DataverseError(
                    "ObjectDoesNotExist",
                    entity=entity.logical_name,
                    id=next(iter(key_values.values())),
                )
            raise DataverseError("RecordNotFoundByEntityKey", entity=entity.logical_name)
        self.security.require(user, "Create", entity)
        values = self.parser.parse(entity, body, create=True)
        for name, value in key_values.items():
            if name in values and values[name] != value and name != entity.primary_id:
                raise DataverseError(
                    "InvalidArgument",
                    message=(f"The value of '{name}' in the body differs from the key in the URL."),
                )
            values[name] = value
        return self.create_values(user, entity, values, detect_duplicates=detect_duplicates)

    def delete(
        self,
        user: Principal,
        entity: Entity,
        record_id: str,
        *,
        if_match: str | None = None,
        check: bool = True,
    ) -> None:
        if check:
            self.refuse_intersect(entity, "Delete")
            self.security.require(user, "Delete", entity)
        current = self.store.get(entity, record_id)
        if current is None:
            raise DataverseError("ObjectDoesNotExist", entity=entity.logical_name, id=record_id)
        self.check_etag(current, if_match)
        lists_touched = []
        if entity.logical_name in ("contact", "account", "lead"):
            lists_touched = [
                r[0]
                for r in self.store.rows(
                    "SELECT DISTINCT listid FROM t_listmember WHERE entityid = ?", (record_id,)
                )
            ]
        self.store.delete(entity, record_id)
        for list_id in lists_touched:
            self.refresh_member_count(list_id)

    def refresh_member_count(self, list_id: str) -> None:
        lists = self.store.catalog.entities["list"]
        row = self.store.get(lists, list_id)
        if row is None or row.get("type"):
            return  # dynamic lists keep no member rows; their count is computed on demand
        count = self.store.scalar("SELECT COUNT(*) FROM t_listmember WHERE listid = ?", (list_id,))
        self.store.update(lists, list_id, {"membercount": count})


def _already_exists() -> DataverseError:
    error = DataverseError("DuplicateRecord")
    error.message = "A record with matching key values already exists."
    return error
