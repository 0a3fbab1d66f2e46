"""JSON request bodies to column values, with Dataverse's validation rules and messages.

A body maps column logical names to values; lookups are set through single-valued navigation
properties (``"parentcustomerid_account@odata.bind": "/accounts(<id>)"``), never through
``_x_value``. Lengths, choice values and types are checked as the service checks them.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from reconcile.sandbox.dataverse.catalog import Catalog
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.models import (
    EDM_TYPES,
    FLOAT_TYPES,
    INTEGER_TYPES,
    STRING_TYPES,
    Entity,
)
from reconcile.sandbox.dataverse.paths import GUID_RE, parse_segment
from reconcile.sandbox.dataverse.store import Store


def parse_datetime(text: str, *, date_only: bool = False) -> str:
    """ISO 8601 in, ``YYYY-MM-DDTHH:MM:SSZ`` (UTC) or ``YYYY-MM-DD`` out; ValueError if bad."""
    text = text.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        return day.isoformat() if date_only else f"{day.isoformat()}T00:00:00Z"
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.date().isoformat() if date_only else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _bad_literal(value: Any, type_: str) -> DataverseError:
    return DataverseError(
        "ODataSyntax",
        message=f"Cannot convert the literal '{value}' to the expected type "
        f"'{EDM_TYPES.get(type_, 'Edm.String')}'.",
    )


# Characters an alternate-key value cannot hold in a URL segment (Microsoft's alternate-key
# documentation lists / < > * % & : \ ?; users report + and # too) [docs/dataverse-api.md].
URL_KEY_FORBIDDEN = frozenset("/<>*%&:\\?+#")


class PayloadParser:
    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def catalog(self) -> Catalog:
        return self.store.catalog  # the store replaces its catalog on reset

    def parse(self, entity: Entity, body: Any, *, create: bool) -> dict[str, Any]:
        """Column values to write; raises DataverseError naming the property at fault."""
        if not isinstance(body, dict):
            raise DataverseError("ODataSyntax", message="The request body must be a JSON object.")
        values: dict[str, Any] = {}
        for name, value in body.items():
            if "@" in name:
                nav, _, annotation = name.partition("@")
                if annotation == "odata.bind" and nav:
                    values.update(self.bind(entity, nav, value))
                continue  # other annotations (@odata.type, @odata.etag, ...) are ignored
            attribute = entity.attributes.get(name)
            if attribute is None or attribute.is_lookup:
                if name.startswith("_") and name.endswith("_value"):
                    raise DataverseError(
                        "ODataSyntax",
                        message="CRM do not support direct update of Entity Reference properties, "
                        "Use Navigation properties instead.",
                    )
                if isinstance(value, (dict, list)) and (
                    self.catalog.single_nav(entity, name)
                    or self.catalog.collection_nav(entity, name)
                ):
                    raise DataverseError(
                        "ODataSyntax",
                        message=f"Deep insert through '{name}' is not emulated by the sandbox; "
                        "create the related row first and bind it with @odata.bind.",
                    )
                raise DataverseError(
                    "ODataSyntax",
                    message=f"The property '{name}' does not exist on type "
                    f"'Microsoft.Dynamics.CRM.{entity.logical_name}'. Make sure to only use "
                    "property names that are defined by the type.",
                )
            if attribute.readonly or name in ("versionnumber",):
                continue  # the platform ignores columns that are not valid for create/update
            if attribute.is_primary_id:
                if value is None or not isinstance(value, str) or not GUID_RE.match(value):
                    raise _bad_literal(value, "Uniqueidentifier")
                values[name] = value.lower()
                continue
            if attribute.create_only and not create:
                raise DataverseError(
                    "ValidationError",
                    message=f"A validation error occurred. The '{name}' attribute of the "
                    f"'{entity.logical_name}' entity can be set only when the record is created.",
                )
            values[name] = self.convert(entity, name, value)
        return values

    def convert(self, entity: Entity, name: str, value: Any) -> Any:
        attribute = entity.attributes[name]
        type_ = attribute.type
        if value is None:
            return None
        if type_ in STRING_TYPES:
            if not isinstance(value, str):
                raise _bad_literal(value, type_)
            limit = attribute.max_length
            if limit is not None and len(value) > limit:
                raise DataverseError(
                    "ValidationError",
                    message=f"A validation error occurred. The length of the '{name}' attribute "
                    f"of the '{entity.logical_name}' entity exceeded the maximum allowed length "
                    f"of '{limit}'.",
                )
            return value
        if type_ == "Boolean":
            if not isinstance(value, bool):
                raise _bad_literal(value, type_)
            return int(value)
        if type_ in INTEGER_TYPES:
            if isinstance(value, bool) or not isinstance(value, int):
                raise _bad_literal(value, type_)
            if type_ in ("Picklist", "State", "Status") and value not in attribute.options:
                accepted = ",".join(str(v) for v in attribute.options)
                raise DataverseError(
                    "ValidationError",
                    message=f"A validation error occurred. The value {value} of '{name}' on "
                    f"record of type '{entity.logical_name}' is outside the valid range. "
                    f"Accepted Values: {accepted}",
                )
            self._range(entity, name, value)
            return value
        if type_ in FLOAT_TYPES:
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
            ):
                raise _bad_literal(value, type_)
            self._range(entity, name, value)
            return float(value)
        if type_ == "DateTime":
            try:
                return parse_datetime(str(value), date_only=attribute.format == "DateOnly")
            except ValueError:
                raise _bad_literal(value, type_) from None
        if type_ == "Uniqueidentifier" or attribute.is_lookup:
            if not isinstance(value, str) or not GUID_RE.match(value):
                raise _bad_literal(value, type_)
            return value.lower()
        raise _bad_literal(value, type_)

    @staticmethod
    def _range(entity: Entity, name: str, value: float) -> None:
        attribute = entity.attributes[name]
        low, high = attribute.min_value, attribute.max_value
        if (low is not None and value < low) or (high is not None and value > high):
            raise DataverseError(
                "ValidationError",
                message=f"A validation error occurred. The value of '{name}' on record of type "
                f"'{entity.logical_name}' is outside the valid range ({low} to {high}).",
            )

    def bind(self, entity: Entity, nav: str, value: Any) -> dict[str, Any]:
        """``nav@odata.bind`` -> the lookup column (and its target for polymorphic ones)."""
        resolved = self.catalog.single_nav(entity, nav)
        if resolved is None:
            raise DataverseError(
                "ODataSyntax",
                message=f"An undeclared property '{nav}' which only has property annotations in "
                "the payload but no property value was found in the payload. In OData, only "
                "declared navigation properties and declared named streams can be represented "
                "as properties without values.",
            )
        attribute, pinned = resolved
        columns: dict[str, Any] = {}
        if value is None:
            columns[attribute.logical_name] = None
            if attribute.polymorphic:
                columns[f"{attribute.logical_name}__target"] = None
            return columns
        target, record_id = self.resolve_reference(value)
        allowed = [pinned] if pinned else attribute.targets
        if target.logical_name not in allowed:
            raise DataverseError(
                "ODataSyntax",
                message=f"The navigation property '{nav}' expects a reference to "
                f"{' or '.join(allowed)}, not to '{target.entity_set_name}'.",
            )
        columns[attribute.logical_name] = record_id
        if attribute.polymorphic:
            columns[f"{attribute.logical_name}__target"] = target.logical_name
        return columns

    def resolve_reference(self, value: Any) -> tuple[Entity, str]:
        """``/contacts(<id>)``, ``contacts(key='v')`` or an absolute URL -> (table, id)."""
        if not isinstance(value, str):
            raise DataverseError("ODataSyntax", message=f"Bad entity reference {value!r}.")
        path = urlsplit(value).path if "://" in value else value
        marker = path.find("/api/data/v")
        if marker >= 0:
            path = path[marker:].split("/", 4)[-1]
        segment = parse_segment(path.strip("/"))
        entity = self.catalog.entity_by_set(segment.name)
        if entity is None or not segment.args:
            raise DataverseError("ResourceNotFound", segment=segment.text or value)
        record_id = self.find(entity, segment.args)
        return entity, record_id

    def find(self, entity: Entity, args: dict[str, Any]) -> str:
        """The id of the row a key segment names; 404 when there is none."""
        if set(args) == {""}:
            record_id = args[""]
            if not isinstance(record_id, str) or not GUID_RE.match(record_id):
                raise DataverseError("ODataSyntax", message=f"Bad key value '{record_id}'.")
            if not self.store.exists(entity, record_id):
                raise DataverseError("ObjectDoesNotExist", entity=entity.logical_name, id=record_id)
            return record_id
        values = self.key_values(entity, args)
        found = self.store.id_by_key(entity, values)
        if found is None:
            raise DataverseError("RecordNotFoundByEntityKey", entity=entity.logical_name)
        return found

    def key_values(self, entity: Entity, args: dict[str, Any]) -> dict[str, Any]:
        """Validate an alternate-key segment against the table's defined keys."""
        names = sorted(args)
        if names == [""]:
            value = args[""]
            if not isinstance(value, str) or not GUID_RE.match(value):
                raise DataverseError("ODataSyntax", message=f"Bad key value '{value}'.")
            return {entity.primary_id: value.lower()}
        if names == [entity.primary_id]:
            return {entity.primary_id: str(args[entity.primary_id]).lower()}
        for key in entity.keys:
            if sorted(key.attributes) == names:
                for name in names:
                    if isinstance(args[name], str) and URL_KEY_FORBIDDEN.intersection(args[name]):
                        # Dataverse cannot route such a key in a URL (docs/dataverse-api.md).
                        raise DataverseError(
                            "ODataSyntax", message="Bad Request - Error in query syntax."
                        )
                return {name: self.convert(entity, name, args[name]) for name in key.attributes}
        raise DataverseError(
            "ODataSyntax",
            message=f"The key segment ({', '.join(names)}) does not match any key defined for "
            f"entity '{entity.logical_name}'. Define an alternate key with these columns first.",
        )
