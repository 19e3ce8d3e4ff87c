"""A local Salesforce org: REST, SOQL, Bulk API 2.0, Tooling and OAuth over an org directory.

Reading order: ``metadata`` (built-in describe data) → ``schema`` (one org's objects and
field-level security) → ``store`` (the SQLite working copy) → ``soql`` (parse, compile, shape
records) → ``api_*`` modules (HTTP surface) → ``app`` (assembly) → ``command`` (CLI) and
``testing`` (for other engineers' tests). The supported surface and known differences from
real Salesforce are in ``docs/emulators/salesforce.md``.
"""
