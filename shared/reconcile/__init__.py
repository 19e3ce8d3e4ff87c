"""Proving a phase landed: counts, presence and field-level read-back, reports, the gate.

Reading order: ``normalise`` (how two values are compared) → ``model`` (the verdict) →
``readback`` (one object against the target) → ``report`` (files for people) → ``phase``
(one phase end to end, and the gate that stops the run).
"""
