"""Contact matching: every GetResponse contact gets link / review / new / invalid.

``match_contacts(gr, crm, options)`` is the whole public surface; the modules split the work:
``prepare`` (normalize and fold), ``domains`` (typo correction), ``blocking`` (candidate
pairs), ``scoring`` (scores and linkability), ``decide`` (decisions), ``explain`` (reasons).
See docs/matching.md.
"""

from __future__ import annotations

from reconcile.matching.core import (
    CANDIDATE_IDS,
    LIKELY_DUPLICATE,
    NAMES_DIFFER,
    OUTPUT_COLUMNS,
    RISK,
    SAME_EMAIL,
    match_contacts,
)
from reconcile.matching.options import MatchOptions

__all__ = [
    "CANDIDATE_IDS",
    "LIKELY_DUPLICATE",
    "NAMES_DIFFER",
    "OUTPUT_COLUMNS",
    "RISK",
    "SAME_EMAIL",
    "MatchOptions",
    "match_contacts",
]
