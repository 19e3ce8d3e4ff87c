"""The mapping file, as data a person can read, confirm and change.

A mapping file (YAML, see ``docs/mapping.md``) is validated into these pydantic models at load
time: unknown keys are refused (``extra="forbid"``) and every closed set is a ``Literal``, so a
typo is an error naming its line rather than a silently ignored setting. The models carry no
behaviour; ``shared.mapping.transform`` compiles them into a fast plan once per run.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

TransformName = Literal[
    "copy",
    "text",
    "memo",
    "email",
    "phone",
    "url",
    "choice",
    "multichoice",
    "boolean",
    "integer",
    "bigint",
    "decimal",
    "money",
    "float",
    "date",
    "datetime",
    "duration_minutes",
    "template",
    "constant",
]
"""How one source value becomes one target value (``docs/type-mapping.md``)."""

OnError = Literal["quarantine", "null", "default", "truncate"]
"""What happens when a value does not fit: quarantine the record (default), write null, write
the field's ``default``, or (text only) truncate to the column's MaxLength and report it."""

ColumnType = Literal[
    "String",
    "Memo",
    "Integer",
    "BigInt",
    "Decimal",
    "Double",
    "Money",
    "Boolean",
    "DateTime",
    "Picklist",
    "MultiSelectPicklist",
]

ObjectKind = Literal["record", "activity", "note"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnDef(_Model):
    """A custom column the mapping needs; ``deploy-schema`` creates it before any write."""

    type: ColumnType
    label: str | None = None
    max_length: int | None = Field(None, ge=1, le=1_048_576)
    format: Literal["Text", "Email", "Phone", "Url", "TextArea"] | None = None
    precision: int | None = Field(None, ge=0, le=10)
    min_value: float | None = None
    max_value: float | None = None
    date_format: Literal["DateOnly", "DateAndTime"] | None = None
    alternate_key: bool = False


class FieldMap(_Model):
    """One target column and where its value comes from."""

    target: str
    source: str | None = None
    sources: list[str] | None = None
    transform: TransformName = "copy"
    values: dict[str, int | bool | str] | None = None
    template: str | None = None
    value: Any = None
    default: Any = None
    round: Literal["half_up", "ceiling", "floor"] = "half_up"
    on_error: OnError = "quarantine"
    column: ColumnDef | None = None

    @field_validator("on_error", mode="before")
    @classmethod
    def _yaml_null(cls, value: Any) -> Any:
        # ``on_error: null`` is what people write (and what the docs say); YAML reads it as None.
        return "null" if value is None else value

    @model_validator(mode="after")
    def _consistent(self) -> FieldMap:
        if self.transform == "constant":
            if self.source or self.sources:
                raise ValueError("a constant takes 'value', not 'source'")
        elif self.transform == "template":
            if not self.template or not self.sources:
                raise ValueError("a template needs 'template' and 'sources'")
        elif not self.source and not self.sources:
            raise ValueError(f"transform '{self.transform}' needs 'source' (or 'sources')")
        if self.transform in ("choice", "multichoice") and not self.values:
            raise ValueError(f"transform '{self.transform}' needs a 'values' map")
        if self.on_error == "default" and self.default is None:
            raise ValueError("on_error 'default' needs a 'default' value")
        if self.on_error == "truncate" and self.transform not in ("text", "memo", "template"):
            raise ValueError("on_error 'truncate' applies to text only")
        return self


class LookupMap(_Model):
    """A reference to another mapped object, bound to the parent's deterministic id."""

    source: str
    object: str
    nav: str
    required: bool = False


class ParentCandidate(_Model):
    """One place an activity or note may hang: a fixed object or a polymorphic reference."""

    source: str
    object: str | None = None
    types: dict[str, str] | None = None
    type_field: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ParentCandidate:
        if (self.object is None) == (self.types is None):
            raise ValueError("give either 'object' or 'types'")
        return self


class ParentMap(_Model):
    """Where an activity (``regardingobjectid``) or note (``objectid``) is attached.

    Candidates are tried in order; a non-empty candidate that is not migrated falls back to the
    next one with a ``REGARDING_FALLBACK`` entry; none left means ``ORPHAN_RECORD``.
    """

    binding: Literal["regarding", "object"]
    required: bool = True
    candidates: list[ParentCandidate] = Field(min_length=1)


class OwnerMap(_Model):
    """Salesforce owner columns (flattened relationship paths) used to find the Dynamics user."""

    email: str = "Owner.Email"
    active: str | None = "Owner.IsActive"


class RouteMap(_Model):
    """Which records of the source object this entry takes (several entries share a source)."""

    field: str
    in_: list[str | bool | None] = Field(alias="in", min_length=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CloseRule(_Model):
    """State to set after creation (activities are created open, then closed)."""

    when: list[RouteMap] = Field(default_factory=list)
    statecode: int
    statuscode: int


class PartiesMap(_Model):
    """Activity parties resolved from addresses (emails) or references (calls).

    Each role names ``$owner``, a source field, or a list of source fields of which the first
    non-empty one is used (``[leadfwd__Contact__c, leadfwd__Lead__c]``).
    """

    from_: str | list[str] | None = Field(None, alias="from")
    to: str | list[str] | None = None
    cc: str | list[str] | None = None
    bcc: str | list[str] | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ReferenceCheck(_Model):
    """A reference that must point at a live record; otherwise a report entry (not a rejection).

    Example: an enrollment whose sequence was deleted is still written as a note, with
    ``SEQUENCE_DELETED`` and ``text`` appended to the ``append_to`` column.
    """

    source: str
    object: str
    reason_code: str
    text: str | None = None
    append_to: str | None = None


class FileMap(_Model):
    """A file body staged at ``<run_id>/files/<object>/<id>``, attached to an annotation."""

    object: Literal["ContentVersion", "Attachment"]
    id_field: str
    filename: str
    size_field: str
    extension_field: str | None = None
    mimetype: str | None = None


class SupersededBy(_Model):
    """Records another object migrates more fully are skipped here (``SUPERSEDED``).

    Example: Salesforce logs an email both as a Task (subtype Email) and as an EmailMessage
    whose ``ActivityId`` is that Task; migrating both would put every email twice on the
    timeline, so the Task route says ``superseded_by: {object: EmailMessage, field:
    ActivityId}``.
    """

    object: str
    field: str


class ParentFilter(_Model):
    """Query only records linked to extracted parents (``ContentDocumentLink`` needs it)."""

    field: str
    parents: list[str] = Field(min_length=1)


class ObjectMap(_Model):
    """One source object (or one route of it) and the Dataverse table it lands in."""

    name: str
    source: str
    target: str
    entity_set: str
    enabled: bool = True
    kind: ObjectKind = "record"
    filter: str | None = None
    include_deleted: bool = False
    route: RouteMap | None = None
    id_column: str | None = None
    owner: OwnerMap | None = None
    fields: list[FieldMap] = Field(default_factory=list)
    lookups: list[LookupMap] = Field(default_factory=list)
    parent: ParentMap | None = None
    parties: PartiesMap | None = None
    close: list[CloseRule] = Field(default_factory=list)
    checks: list[ReferenceCheck] = Field(default_factory=list)
    superseded_by: SupersededBy | None = None
    file: FileMap | None = None
    extra_fields: list[str] = Field(default_factory=list)
    parent_filter: ParentFilter | None = None


class DedupMap(_Model):
    """Fields the de-duplication pre-passes read (``shared.mapping.dedup``)."""

    email_field: str = "Email"
    external_id_field: str | None = "leadfwd__External_Id__c"
    created_by_sync_field: str | None = "leadfwd__Created_By_Sync__c"
    people: list[str] = Field(default_factory=lambda: ["Contact", "Lead"])


class Policies(_Model):
    """Decisions a person makes once per migration (``docs/mapping.md#policies``)."""

    converted_leads: Literal["skip", "migrate"] = "skip"
    lead_contact_same_person: Literal["both", "contact_wins", "lead_wins"] = "both"
    converted_field: str = "IsConverted"
    deleted_field: str = "IsDeleted"


class Mapping(_Model):
    """A whole mapping file."""

    version: Literal[1]
    name: str
    description: str | None = None
    policies: Policies = Field(default_factory=Policies)
    dedup: DedupMap = Field(default_factory=DedupMap)
    objects: list[ObjectMap] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> Mapping:
        if info.context and info.context.get("defer_references"):
            return self
        problems = self.reference_problems()
        if problems:
            raise ValueError("; ".join(msg for _, msg in problems))
        return self

    def reference_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Names that do not resolve: ``(key path, message)`` per problem.

        The loader reports them with the line of the key path; built in code, the model
        validator raises them all at once.
        """
        out: list[tuple[tuple[str | int, ...], str]] = []
        names = [o.name for o in self.objects]
        known = set(names)
        for i, obj in enumerate(self.objects):
            if names.count(obj.name) > 1 and names.index(obj.name) != i:
                out.append((("objects", i, "name"), f"object name '{obj.name}' is used twice"))
            for j, lk in enumerate(obj.lookups):
                if lk.object not in known:
                    out.append(
                        (
                            ("objects", i, "lookups", j, "object"),
                            f"lookup {lk.source} points at '{lk.object}', which is not an object "
                            "of this mapping",
                        )
                    )
            for j, cand in enumerate(obj.parent.candidates if obj.parent else []):
                refs = [cand.object] if cand.object else list((cand.types or {}).values())
                for ref in refs:
                    if ref not in known:
                        out.append(
                            (
                                ("objects", i, "parent", "candidates", j),
                                f"parent {cand.source} points at '{ref}', which is not an object "
                                "of this mapping",
                            )
                        )
        return out

    def effective(self) -> Mapping:
        """The mapping without its ``enabled: false`` entries and every reference to them.

        A disabled object is simply not migrated: lookups to it are dropped (nothing to bind)
        and an activity/note parent of its type falls back to the next candidate with a
        ``REGARDING_FALLBACK`` entry, exactly as for any other record that is not migrated.
        """
        off = {o.name for o in self.objects if not o.enabled}
        if not off:
            return self
        objects = []
        for obj in self.objects:
            if obj.name in off:
                continue
            lookups = [lk for lk in obj.lookups if lk.object not in off]
            parent = obj.parent
            if parent is not None:
                cands = []
                for c in parent.candidates:
                    if c.object in off:  # still read: a value there is "not migrated"
                        c = c.model_copy(update={"object": None, "types": {}})
                    elif c.types is not None:
                        c = c.model_copy(
                            update={"types": {k: v for k, v in c.types.items() if v not in off}}
                        )
                    cands.append(c)
                parent = parent.model_copy(update={"candidates": cands})
            objects.append(obj.model_copy(update={"lookups": lookups, "parent": parent}))
        return self.model_copy(update={"objects": objects})

    def by_name(self, name: str) -> ObjectMap:
        """The object entry called ``name`` (KeyError when absent)."""
        for obj in self.objects:
            if obj.name == name:
                return obj
        raise KeyError(name)

    def primary_for(self, source: str) -> ObjectMap | None:
        """The entry that owns the deterministic id of ``source`` records (the first route)."""
        return next((o for o in self.objects if o.source == source), None)
