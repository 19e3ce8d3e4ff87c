"""``$metadata``: a CSDL (OData v4 XML) document for the emulated tables.

Real Dataverse's document is far larger (every table, complex type, action and function);
this one describes the tables served here, their columns (``_x_value`` for lookups), their
single-valued navigation properties and entity sets, so generic OData tools can discover them.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from emulators.dataverse.environment import Environment
from emulators.dataverse.metadata import Table
from emulators.dataverse.values import EDM


def _entity_type(table: Table) -> list[str]:
    lines = [
        f"<EntityType Name={quoteattr(table.logical)}>",
        f"<Key><PropertyRef Name={quoteattr(table.primary_id)}/></Key>",
    ]
    for col in table.columns.values():
        if col.type == "PartyList":
            continue
        if col.is_lookup:
            lines.append(f'<Property Name={quoteattr(f"_{col.logical}_value")} Type="Edm.Guid"/>')
            continue
        edm = EDM.get(col.type, "Edm.String")
        lines.append(f"<Property Name={quoteattr(col.logical)} Type={quoteattr(edm)}/>")
    for nav, (_col, target) in table.navigation().items():
        kind = "principal" if nav == "ownerid" else target
        lines.append(
            f"<NavigationProperty Name={quoteattr(nav)} Type={quoteattr('mscrm.' + kind)}/>"
        )
    if table.is_activity:
        lines.append(
            f"<NavigationProperty Name={quoteattr(table.logical + '_activity_parties')} "
            'Type="Collection(mscrm.activityparty)"/>'
        )
    lines.append("</EntityType>")
    return lines


def document(env: Environment) -> str:
    """The CSDL XML text."""
    body: list[str] = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
        "<edmx:DataServices>",
        '<Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm" '
        'xmlns="http://docs.oasis-open.org/odata/ns/edm">',
        '<EntityType Name="principal" Abstract="true"/>',
    ]
    for table in env.tables.values():
        body.extend(_entity_type(table))
    body.append('<EntityContainer Name="System">')
    for table in env.tables.values():
        body.append(
            f"<EntitySet Name={quoteattr(table.entity_set)} "
            f"EntityType={quoteattr('Microsoft.Dynamics.CRM.' + table.logical)}/>"
        )
    body += ["</EntityContainer>", "</Schema>", "</edmx:DataServices>", "</edmx:Edmx>"]
    return "\n".join(body)
