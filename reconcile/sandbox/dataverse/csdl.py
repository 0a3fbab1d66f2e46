"""``$metadata``: the CSDL document of every table, as the service generates it.

The shape follows Dataverse's: one ``Microsoft.Dynamics.CRM`` schema (alias ``mscrm``),
``EntityType``s deriving from ``mscrm.crmbaseentity`` with their key, properties (lookups as
``_x_value`` ``Edm.Guid``) and navigation properties, an ``EntityContainer`` of entity sets, and
with ``?annotations=true`` the change-tracking capability of tables that have it enabled.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from reconcile.sandbox.dataverse.catalog import Catalog
from reconcile.sandbox.dataverse.models import ManyToMany


def document(catalog: Catalog, *, annotations: bool = False) -> str:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
        '<edmx:Reference Uri="http://vocabularies.odata.org/OData.Community.Keys.V1.xml">'
        '<edmx:Include Namespace="OData.Community.Keys.V1" Alias="Keys"/></edmx:Reference>',
        '<edmx:Reference Uri="http://vocabularies.odata.org/OData.Community.Display.V1.xml">'
        '<edmx:Include Namespace="OData.Community.Display.V1" Alias="Display"/></edmx:Reference>',
        "<edmx:DataServices>",
        '<Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm" '
        'xmlns="http://docs.oasis-open.org/odata/ns/edm">',
        '<EntityType Name="crmbaseentity" Abstract="true"/>',
    ]
    for entity in sorted(catalog.entities.values(), key=lambda e: e.logical_name):
        out.append(f'<EntityType Name="{entity.logical_name}" BaseType="mscrm.crmbaseentity">')
        out.append(f'<Key><PropertyRef Name="{entity.primary_id}"/></Key>')
        for attribute in entity.attributes.values():
            unicode = ' Unicode="false"' if attribute.edm_type == "Edm.String" else ""
            out.append(
                f'<Property Name="{attribute.wire_name}" Type="{attribute.edm_type}"{unicode}/>'
            )
        for rel in catalog.one_to_many.values():
            if rel.referencing_entity == entity.logical_name:
                out.append(
                    f'<NavigationProperty Name="{rel.referencing_nav}" '
                    f'Type="mscrm.{rel.referenced_entity}" Nullable="false" '
                    f'Partner="{rel.referenced_nav}"><ReferentialConstraint '
                    f'Property="_{rel.referencing_attribute}_value" '
                    f'ReferencedProperty="{rel.referenced_attribute}"/></NavigationProperty>'
                )
            if rel.referenced_entity == entity.logical_name:
                out.append(
                    f'<NavigationProperty Name="{rel.referenced_nav}" '
                    f'Type="Collection(mscrm.{rel.referencing_entity})" '
                    f'Partner="{rel.referencing_nav}"/>'
                )
        for m2m in catalog.many_to_many.values():
            if entity.logical_name in (m2m.entity1, m2m.entity2):
                other = _other(m2m, entity.logical_name)
                nav = m2m.entity1_nav if m2m.entity1 == entity.logical_name else m2m.entity2_nav
                out.append(f'<NavigationProperty Name="{nav}" Type="Collection(mscrm.{other})"/>')
        out.append("</EntityType>")
    out.append('<EntityContainer Name="System">')
    for entity in sorted(catalog.entities.values(), key=lambda e: e.logical_name):
        out.append(
            f'<EntitySet Name="{entity.entity_set_name}" EntityType="mscrm.{entity.logical_name}">'
        )
        if annotations and entity.change_tracking:
            out.append(
                '<Annotation Term="Org.OData.Capabilities.V1.ChangeTracking"><Record>'
                '<PropertyValue Property="Supported" Bool="true"/></Record></Annotation>'
            )
        if annotations and entity.keys:
            keys = "".join(
                "<Collection>"
                + "".join(f"<PropertyPath>{name}</PropertyPath>" for name in key.attributes)
                + "</Collection>"
                for key in entity.keys
                if key.status == "Active"
            )
            term = "OData.Community.Keys.V1.AlternateKeys"
            out.append(f'<Annotation Term="{term}" String={quoteattr(keys)}/>')
        out.append("</EntitySet>")
    out += ["</EntityContainer>", "</Schema>", "</edmx:DataServices>", "</edmx:Edmx>"]
    return "\n".join(out)


def _other(rel: ManyToMany, me: str) -> str:
    return rel.entity2 if rel.entity1 == me else rel.entity1
