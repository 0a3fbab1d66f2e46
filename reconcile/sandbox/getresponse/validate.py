"""Request-body checks shared by the resources, each failing with the API's 400 / 1000."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from reconcile.sandbox.getresponse.errors import invalid

# Good enough for what GetResponse's preliminary validation catches synchronously: one @, a
# non-empty local part without spaces, a dotted domain. Deliverability is checked later.
_EMAIL = re.compile(
    r"^[^@\s\"(),:;<>\[\]\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


def body_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid("body", "The request body must be a JSON object")
    return body


def string(
    body: dict[str, Any],
    name: str,
    *,
    required: bool = False,
    min_length: int = 0,
    max_length: int | None = None,
    label: str | None = None,
) -> str | None:
    label = label or name
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(label, "This value should not be blank")
        return None
    if not isinstance(value, str):
        raise invalid(label, "This value should be of type string", value)
    if len(value) < min_length:
        raise invalid(label, f"This value is too short (minimum {min_length} characters)", value)
    if max_length is not None and len(value) > max_length:
        raise invalid(label, f"This value is too long (maximum {max_length} characters)", value)
    return value


def email(value: Any, label: str = "email") -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid(label, "This value should not be blank")
    text = value.strip()
    if len(text) > 128 or not _EMAIL.match(text):
        raise invalid(label, "This value is not a valid email address", value)
    return text


def ip_address(value: Any, label: str = "ipAddress") -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        raise invalid(label, "This is not a valid IP address", value) from None


def string_boolean(value: Any, label: str, default: str | None = None) -> str | None:
    """The API's booleans are the strings "true" / "false"; JSON booleans are accepted too."""
    if value is None:
        return default
    if isinstance(value, bool):
        return "true" if value else "false"
    if value in ("true", "false"):
        return str(value)
    raise invalid(label, 'This value should be "true" or "false"', value)


def number(value: Any, label: str) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise invalid(label, "This value should be a number", value)
    try:
        parsed = float(value)
    except ValueError:
        raise invalid(label, "This value should be a number", value) from None
    return int(parsed) if parsed.is_integer() else parsed


def id_list(value: Any, label: str, key: str | None = None) -> list[str]:
    """A list of ids: plain strings, or objects carrying the id under ``key``."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(label, "This value should be of type array", value)
    out = []
    for i, item in enumerate(value):
        ident = item.get(key) if key and isinstance(item, dict) else item
        if not isinstance(ident, str) or not ident:
            raise invalid(f"{label}[{i}]{'.' + key if key else ''}", "Invalid id", item)
        out.append(ident)
    return out


def reference(body: dict[str, Any], name: str, key: str, *, required: bool = False) -> str | None:
    """``{"campaign": {"campaignId": "C"}}`` -> ``"C"``."""
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(f"{name}.{key}", "This value should not be blank")
        return None
    if not isinstance(value, dict) or not isinstance(value.get(key), str) or not value[key]:
        raise invalid(f"{name}.{key}", "This value should not be blank", value)
    return str(value[key])
