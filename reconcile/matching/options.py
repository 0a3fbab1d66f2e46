"""The knobs of contact matching, with defaults measured on the labelled benchmark.

docs/matching.md explains each one and the numbers behind the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconcile.errors import ConfigError


@dataclass(frozen=True)
class MatchOptions:
    """How sure matching must be before it links, reviews or creates.

    Scores are 0-100. Exact and same-mailbox email matches score 98-100 and link unless the
    names clearly disagree or several CRM contacts share the address; fuzzy matches (typos,
    same name with another email) link only when ``link_fuzzy`` is on, the pair scores at least
    ``link_threshold``, the evidence is an email typo (never a name alone) and no runner-up
    comes within ``margin`` points.
    """

    link_threshold: int = 90
    """A fuzzy pair scoring at least this links, when nothing argues against it."""
    review_threshold: int = 33
    """Below this the best candidate is not worth a reviewer's time: the contact is ``new``.
    Candidates found on weak evidence (the same name with another address) score the chance in
    percent that they are the same person, so 33 reads "at least one chance in three"."""
    max_candidates: int = 3
    """How many candidates a review row lists (best first)."""
    candidate_threshold: int = 10
    """A candidate listed under the best one must score at least this."""
    margin: int = 6
    """A runner-up this close to the best fuzzy candidate makes the row ambiguous (review)."""
    first_name_agreement: int = 85
    """First names at least this similar (or an initial that fits) count as the same person
    when the email is identical; below it, an exact email goes to review (shared mailbox)."""
    typo_name_agreement: int = 100
    """A typo in the local part links only when first and last names are each at least this
    similar (after folding accents and case: in practice, the same name)."""
    link_fuzzy: bool = True
    """Allow links on email typos at all; False sends every fuzzy match to review."""
    max_block: int = 50
    """Name or local-part blocks with more CRM contacts than this are too common to suggest."""
    min_typo_length: int = 6
    """Local parts shorter than this are not searched for typos (too many look-alikes)."""

    def __post_init__(self) -> None:
        problems = []
        for field in ("link_threshold", "review_threshold", "candidate_threshold"):
            value = getattr(self, field)
            if not 0 <= value <= 100:
                problems.append(f"{field} must be between 0 and 100, got {value}")
        if self.review_threshold > self.link_threshold:
            problems.append(
                f"review_threshold ({self.review_threshold}) must not exceed "
                f"link_threshold ({self.link_threshold})"
            )
        if self.max_candidates < 1:
            problems.append(f"max_candidates must be at least 1, got {self.max_candidates}")
        if self.margin < 0 or self.max_block < 1 or self.min_typo_length < 1:
            problems.append("margin must be ≥ 0, max_block and min_typo_length ≥ 1")
        for field in ("first_name_agreement", "typo_name_agreement"):
            if not 0 <= getattr(self, field) <= 100:
                problems.append(f"{field} must be between 0 and 100")
        if problems:
            raise ConfigError(
                "invalid matching options: " + "; ".join(problems),
                hint="fix the matching settings (see docs/matching.md for sensible values)",
            )
