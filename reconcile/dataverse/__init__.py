"""Dataverse (Dynamics 365) Web API client, the connector's tables and roles.

Typical use::

    from reconcile.config import load_settings
    from reconcile.dataverse import connect, contacts_by_email

    with connect(load_settings()) as client:
        matches = contacts_by_email(client, "o'brien@example.com")

See docs/dataverse-client.md for the design, the API-version differences and the sources.
"""

from __future__ import annotations

from reconcile.dataverse.auth import BearerTokenAuth, MsalAuth, adfs_auth, online_auth
from reconcile.dataverse.batch import Changeset, Operation, Result
from reconcile.dataverse.batch import execute as execute_batch
from reconcile.dataverse.bulk import (
    BulkResult,
    create_many,
    delete_many,
    update_many,
    upsert_many,
)
from reconcile.dataverse.client import DataverseClient
from reconcile.dataverse.connect import connect, discover_authority
from reconcile.dataverse.errors import (
    AuthenticationFailed,
    ConcurrencyConflict,
    ConnectionFailed,
    DataverseError,
    DuplicateDetected,
    DuplicateRecord,
    NotSupported,
    PrivilegeDenied,
    RecordNotFound,
    RequestTooLarge,
    ServiceUnavailable,
    Throttled,
    ValidationFailed,
    WrongAddress,
)
from reconcile.dataverse.metadata import SchemaReport
from reconcile.dataverse.metadata import check as check_schema
from reconcile.dataverse.metadata import install as install_schema
from reconcile.dataverse.odata import ApiVersion, entity_id_from, prefer
from reconcile.dataverse.paging import Page, fetch_pages, fetch_rows, pages, rows
from reconcile.dataverse.query import Filter, Query, key_segment, literal, record_path
from reconcile.dataverse.resources import (
    CONTACT_COLUMNS,
    Campaign,
    ContactChanges,
    Identity,
    MarketingList,
    Watermark,
    active_contacts,
    add_members,
    campaign,
    campaigns,
    change_tracking_enabled,
    contact,
    contacts_by_email,
    contacts_by_ids,
    contacts_changed_since,
    dynamic_list_warnings,
    list_members,
    marketing_list,
    marketing_lists,
    require_contact_list,
    resolve_masters,
    server_version,
    who_am_i,
)
from reconcile.dataverse.roles import ROLES, SERVICE_USER, Depth, Privilege, Role
from reconcile.dataverse.schema import SYNC_STATUS_VALUES, TABLES, Table
from reconcile.dataverse.security import (
    IdentityReport,
    SecurityReport,
    check_identity,
    check_roles,
    install_roles,
)

__all__ = [
    "CONTACT_COLUMNS",
    "ROLES",
    "SERVICE_USER",
    "SYNC_STATUS_VALUES",
    "TABLES",
    "ApiVersion",
    "AuthenticationFailed",
    "BearerTokenAuth",
    "BulkResult",
    "Campaign",
    "Changeset",
    "ConcurrencyConflict",
    "ConnectionFailed",
    "ContactChanges",
    "DataverseClient",
    "DataverseError",
    "Depth",
    "DuplicateDetected",
    "DuplicateRecord",
    "Filter",
    "Identity",
    "IdentityReport",
    "MarketingList",
    "MsalAuth",
    "NotSupported",
    "Operation",
    "Page",
    "Privilege",
    "PrivilegeDenied",
    "Query",
    "RecordNotFound",
    "RequestTooLarge",
    "Result",
    "Role",
    "SchemaReport",
    "SecurityReport",
    "ServiceUnavailable",
    "Table",
    "Throttled",
    "ValidationFailed",
    "Watermark",
    "WrongAddress",
    "active_contacts",
    "add_members",
    "adfs_auth",
    "campaign",
    "campaigns",
    "change_tracking_enabled",
    "check_identity",
    "check_roles",
    "check_schema",
    "connect",
    "contact",
    "contacts_by_email",
    "contacts_by_ids",
    "contacts_changed_since",
    "create_many",
    "delete_many",
    "discover_authority",
    "dynamic_list_warnings",
    "entity_id_from",
    "execute_batch",
    "fetch_pages",
    "fetch_rows",
    "install_roles",
    "install_schema",
    "key_segment",
    "list_members",
    "literal",
    "marketing_list",
    "marketing_lists",
    "online_auth",
    "pages",
    "prefer",
    "record_path",
    "require_contact_list",
    "resolve_masters",
    "rows",
    "server_version",
    "update_many",
    "upsert_many",
    "who_am_i",
]
