"""The placement statuses of the impact table, named once (``structkit.analysis.table`` documents them).
Standard library only, below every module that compares a row's status."""

from __future__ import annotations

__all__ = ["MAPPED", "MISMATCH", "UNOBSERVED", "NOT_COVERED", "PRESENT", "PLACEMENT_STATUSES"]

MAPPED = "mapped"  # the residue is there and is the expected one
MISMATCH = "reference mismatch"  # the residue is there but differs (engineered, or the variant)
UNOBSERVED = "unobserved"  # inside the construct, no coordinates
NOT_COVERED = "not covered"  # outside the construct (or no aligned residue)
PRESENT = (MAPPED, MISMATCH)  # the residue has coordinates: distances are measured
PLACEMENT_STATUSES = (MAPPED, MISMATCH, UNOBSERVED, NOT_COVERED)  # codes 0..3 of place_in_chain
