"""The stage: extracted batches and files, in a local directory or Azure Blob storage."""
