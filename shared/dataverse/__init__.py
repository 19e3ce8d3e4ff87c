"""The Dataverse side of the pipeline: client, metadata, bulk writes, journal, files, schema.

Reading order: ``classify`` (what a failure means) → ``auth`` (tokens) → ``concurrency``
(how many requests in flight) → ``client`` (one request, retried and throttled) →
``metadata`` (what the target looks like) → ``journal`` (what a batch is about to change) →
``bulk`` (writing rows fast, isolating bad ones) → ``files`` (note bodies) → ``load`` (one
staged batch end to end). ``schema_deploy`` and ``command`` create the columns and keys first.
"""
