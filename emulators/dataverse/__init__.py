"""A local Dataverse Web API (v9.2) environment to migrate against, without a tenant.

Read in this order:

- ``metadata/`` the real standard tables (``tables.yaml``, sources cited) and their model;
- ``store.py`` (SQLite rows) and ``environment.py`` (tables, keys, users, tokens, versions);
- ``values.py`` one column value; ``addressing.py`` keys and references;
  ``records.py`` and ``activity_state.py`` one row's rules; ``represent.py`` rows as JSON;
- ``query.py``, ``odata_filter.py``, ``expand.py`` reads; ``bulk.py``, ``batch.py`` many rows;
  ``annotation_blocks.py`` chunked files; ``metadata_api.py`` EntityDefinitions;
  ``csdl.py`` ``$metadata``;
- ``limits.py`` service protection and cost model; ``faults.py`` injected failures;
- ``protocol.py`` request/reply objects, ``api.py`` routing, ``app.py`` HTTP, ``admin.py``;
- ``command.py`` the CLI and ``testing.py`` ``run_dataverse`` for tests and the demo.

User documentation: ``docs/emulators/dataverse.md``.
"""
