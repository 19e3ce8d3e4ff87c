"""The local host: runs the Durable orchestrators on one machine by replay.

It drives the very same orchestrator generators the Azure Durable Task framework runs, with
the Durable SDK's own ``TaskOrchestrationExecutor`` over a history this host keeps on the
stage (decision record 0002). Activities run concurrently in a thread pool; the history is
appended after every step, so an interrupted run resumes by replay without re-executing
completed activities.
"""
