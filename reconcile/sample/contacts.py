"""Seeded, labelled GetResponse-vs-CRM contact sets: the raw material of matching tests,
benchmarks, the sandboxes' seed data and ``reconcile demo``.

``pairs(n_gr, n_crm, seed, mix)`` returns ``(gr, crm, truth)``:

* ``gr``: ``gr_contact_id``, ``name`` (one free-text column, as GetResponse exports it) and
  ``email``;
* ``crm``: ``crm_contact_id``, ``crm_first_name``, ``crm_last_name``, ``crm_email``;
* ``truth``: per GR row, ``gr_contact_id``, ``scenario``, ``name_variant`` and
  ``crm_contact_ids`` — the CRM contacts that *are* this person, ``|``-joined ("" when none).

Each GR row follows one scenario (``SCENARIOS``), drawn with the shares of ``mix``
(``BENCH_MIX``: ~85% identical mailboxes, as in a real migration; ``HARD_MIX``: the traps).
Names then get an independent variant (``NAME_VARIANTS``: "LAST First", accents dropped, no
name at all ...). Everything is vectorized or touches only the affected rows, so a million
rows per side take a few seconds; the same seed gives the same data.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from reconcile.emails import normalize_emails
from reconcile.sample import addresses, corrupt
from reconcile.sample.corrupt import NAME_VARIANTS
from reconcile.sample.people import people

SCENARIOS = {
    "exact": "same address in both systems (letter case may differ in the CRM)",
    "format": "same address with spaces, capitals, invisible characters or a mailto: wrapper",
    "alias": "same mailbox under provider rules: gmail dots/+tag/googlemail, +tags elsewhere",
    "idn": "same address with letters outside ASCII before the @ (RFC 6531), case or form aside",
    "plus_tag": "a +tag on one side at a provider with no documented rule (laposte.net, a firm)",
    "broken": "GetResponse holds the address with a syntax error (a..b@, x@gmail,com, x@@y.fr)",
    "domain_typo": "a typo in the domain (gmial.com, orange.fe, a company domain one key off)",
    "local_typo": "one typo in the part before the @ (letter swapped, missing, doubled, wrong)",
    "different_email": "the same person with another address (changed provider or job)",
    "crm_no_email": "the person is in the CRM without any email address",
    "shared_mailbox": "two CRM contacts of one family share the address; GR is one of them",
    "crm_duplicate": "the person is in the CRM twice with the same address",
    "shared_other": "GR person absent from the CRM, whose relative in the CRM has the address",
    "namesake_new": "GR person absent from the CRM, with the same name as a CRM contact",
    "sibling_new": "GR person absent from the CRM, address one digit or first name away",
    "new": "GR person absent from the CRM",
    "invalid": "GR person absent from the CRM, with an unusable address",
}
# Scenarios whose GR row has a true CRM match.
MATCHED = ("exact", "format", "alias", "idn", "plus_tag", "broken", "domain_typo", "local_typo",
           "different_email", "crm_no_email", "shared_mailbox", "crm_duplicate")  # fmt: skip

BENCH_MIX = {
    "exact": 0.72, "format": 0.06, "alias": 0.05, "idn": 0.005, "plus_tag": 0.01,
    "broken": 0.003, "domain_typo": 0.025, "local_typo": 0.025, "different_email": 0.005,
    "crm_no_email": 0.002, "shared_mailbox": 0.005, "crm_duplicate": 0.005,
    "shared_other": 0.002, "namesake_new": 0.01, "sibling_new": 0.008, "new": 0.06,
    "invalid": 0.005,
}  # fmt: skip
# The traps: every class a matcher has been seen to fail on, at shares that make the old
# matcher score worse than on the set issue 13 describes (found 0.895, 7% of people the CRM has
# decided new, 28% of rows to review).
HARD_MIX = {
    "exact": 0.16, "format": 0.05, "alias": 0.05, "idn": 0.03, "plus_tag": 0.08,
    "broken": 0.03, "domain_typo": 0.07, "local_typo": 0.07, "different_email": 0.04,
    "crm_no_email": 0.04, "shared_mailbox": 0.04, "crm_duplicate": 0.03, "shared_other": 0.03,
    "namesake_new": 0.08, "sibling_new": 0.07, "new": 0.11, "invalid": 0.02,
}  # fmt: skip

# Scenarios whose GR address is drawn at random (and can be redrawn).
_REDRAWN = ("format", "domain_typo", "local_typo", "different_email", "namesake_new",
            "sibling_new", "invalid")  # fmt: skip
# CRM contacts each GR scenario adds (the rest of the CRM is people absent from GetResponse).
_CRM_RECORDS = {s: 1 for s in MATCHED} | {"shared_mailbox": 2, "crm_duplicate": 2,
                                          "shared_other": 1}  # fmt: skip


def _counts(n: int, mix: Mapping[str, float]) -> dict[str, int]:
    unknown = set(mix) - set(SCENARIOS)
    if unknown:
        raise ValueError(f"unknown scenario(s) {sorted(unknown)}; known: {sorted(SCENARIOS)}")
    total = sum(mix.values())
    counts = {s: round(n * share / total) for s, share in mix.items() if share > 0}
    biggest = max(counts, key=lambda s: counts[s])
    counts[biggest] += n - sum(counts.values())
    return counts


def uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random version-4 GUIDs, as Dynamics shows record ids."""
    raw = rng.bytes(16 * n).hex()
    return np.array(
        [
            f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"
            for h in (raw[i : i + 32] for i in range(0, 32 * n, 32))
        ],
        dtype=object,
    )


def _base_people(n: int, seed: int) -> pd.DataFrame:
    """``n`` people with valid addresses, distinct even under provider rules (gmail dots)."""
    base = people(int(n * 1.03) + 50, seed)
    norm = normalize_emails(base["email"])
    keep = ~norm["email_key"].duplicated().to_numpy() & norm["email_valid"].to_numpy()
    base = base[keep].reset_index(drop=True)
    if len(base) < n:  # pragma: no cover - the 3% margin is ample
        raise RuntimeError("could not draw enough distinct people")
    return base.iloc[:n].reset_index(drop=True)


def pairs(
    n_gr: int, n_crm: int, seed: int = 0, mix: Mapping[str, float] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A labelled (gr, crm, truth) set; see the module docstring. ``mix`` defaults to
    ``BENCH_MIX``. Raises ValueError if ``n_crm`` cannot hold the CRM side of the mix."""
    counts = _counts(n_gr, mix or BENCH_MIX)
    needed = sum(_CRM_RECORDS.get(s, 0) * k for s, k in counts.items())
    if needed > n_crm:
        raise ValueError(f"this mix needs at least {needed} CRM contacts, got n_crm={n_crm}")
    rng = np.random.default_rng(seed)
    base = _base_people(n_gr + (n_crm - needed), seed)
    g = _Draft(rng, base.iloc[:n_gr], base.iloc[n_gr:], counts)
    g.build()
    g.repair_collisions()

    crm = pd.concat(g.crm_parts, ignore_index=True)
    crm_owner = np.concatenate(g.owner)
    order = rng.permutation(len(crm))
    crm, crm_owner = crm.iloc[order].reset_index(drop=True), crm_owner[order]
    crm_ids = uuids(rng, len(crm))
    # A relative's mailbox, or a CRM contact without an address, is only recognisable by the
    # name: those rows always carry one.
    named = np.isin(g.scenario, ["shared_other", "shared_mailbox", "crm_no_email"])
    variant, gr_name = corrupt.gr_names(rng, g.gr_first, g.gr_last, g.culture, named)
    gr_ids = uuids(rng, n_gr)
    gr_order = rng.permutation(n_gr)
    gr = pd.DataFrame({"gr_contact_id": gr_ids, "name": gr_name, "email": g.gr_email})
    truth = pd.DataFrame(
        {"gr_contact_id": gr_ids, "scenario": g.scenario, "name_variant": variant,
         "crm_contact_ids": _truth(n_gr, crm_owner, crm_ids)}
    )  # fmt: skip
    crm_out = pd.DataFrame(
        {"crm_contact_id": crm_ids,
         "crm_first_name": corrupt.crm_names(rng, crm["f"].to_numpy(dtype=object)),
         "crm_last_name": crm["l"].to_numpy(), "crm_email": crm["e"].to_numpy()}
    )  # fmt: skip
    gr = gr.iloc[gr_order].reset_index(drop=True)
    truth = truth.iloc[gr_order].reset_index(drop=True)
    return gr.astype("str"), crm_out.astype("str"), truth.astype("str")


class _Draft:
    """The set under construction: GR rows from their people, and CRM records with the GR
    row each one truly is (-1 for nobody)."""

    def __init__(
        self,
        rng: np.random.Generator,
        gr_people: pd.DataFrame,
        crm_only: pd.DataFrame,
        counts: dict[str, int],
    ) -> None:
        self.rng = rng
        scenario = np.repeat(np.array(list(counts), dtype=object), list(counts.values()))
        rng.shuffle(scenario)
        self.scenario = scenario
        self.first = gr_people["first_name"].to_numpy(dtype=object)
        self.last = gr_people["last_name"].to_numpy(dtype=object)
        # Internationalized addresses are written from names with letters outside ASCII:
        # the "idn" rows go to such people (swapped with other rows, the counts unchanged).
        native = ~pd.Series(self.first + self.last).map(str.isascii).to_numpy(dtype=bool)
        _prefer(scenario, "idn", native)
        self.email = gr_people["email"].to_numpy(dtype=object)
        self.culture = gr_people["culture"].to_numpy(dtype=object)
        self.gr_email = self.email.copy()
        self.gr_first, self.gr_last = self.first.copy(), self.last.copy()
        self.only_first = crm_only["first_name"].to_numpy(dtype=object)
        self.only_last = crm_only["last_name"].to_numpy(dtype=object)
        self.only_email = crm_only["email"].to_numpy(dtype=object)
        self.only_culture = crm_only["culture"].to_numpy(dtype=object)
        # The CRM-only person a namesake or sibling row copies.
        self.ref = rng.integers(0, max(len(crm_only), 1), size=len(scenario))
        self.crm_parts: list[pd.DataFrame] = []
        self.owner: list[np.ndarray] = []

    def rows(self, name: str) -> np.ndarray:
        return np.flatnonzero(self.scenario == name)

    def crm_add(self, rows: np.ndarray, f: np.ndarray, l: np.ndarray, e: np.ndarray,  # noqa: E741
                truth: bool) -> None:  # fmt: skip
        self.crm_parts.append(pd.DataFrame({"f": f, "l": l, "e": e}))
        self.owner.append(rows if truth else np.full(len(rows), -1))

    def build(self) -> None:
        rng, first, last, email = self.rng, self.first, self.last, self.email
        crm_email = {name: email[self.rows(name)] for name in MATCHED}
        r = self.rows("alias")
        self.gr_email[r], crm_email["alias"] = corrupt.alias(rng, email[r])
        r = self.rows("idn")
        self.gr_email[r], crm_email["idn"] = addresses.international(
            rng, first[r], last[r], email[r]
        )
        r = self.rows("plus_tag")
        self.gr_email[r], crm_email["plus_tag"] = addresses.sub_address(rng, email[r])
        r = self.rows("shared_mailbox")
        family = corrupt.family_address(rng, last[r], email[r])
        self.gr_email[r] = crm_email["shared_mailbox"] = family
        for name in MATCHED:
            rows = self.rows(name)
            if name == "crm_no_email":  # typed in by staff, the address never recorded
                self.crm_add(rows, first[rows], last[rows], np.full(len(rows), None), True)
                continue
            self.crm_add(rows, first[rows], last[rows], corrupt.crm_case(rng, crm_email[name]),
                         True)  # fmt: skip
        relatives = corrupt.relative_first_names(rng, first[r])
        self.crm_add(r, relatives, last[r], corrupt.crm_case(rng, family), False)
        r = self.rows("crm_duplicate")
        self.crm_add(r, corrupt.drop_accents(first[r]), last[r], corrupt.crm_case(rng, email[r]),
                     True)  # fmt: skip
        r = self.rows("shared_other")
        family = corrupt.family_address(rng, last[r], email[r])
        self.gr_email[r] = family
        self.crm_add(r, corrupt.relative_first_names(rng, first[r]), last[r], family, False)
        if len(self.only_email):
            r = np.flatnonzero(np.isin(self.scenario, ["namesake_new", "sibling_new"]))
            self.gr_first[r] = self.only_first[self.ref[r]]
            self.gr_last[r] = self.only_last[self.ref[r]]
            self.culture[r] = self.only_culture[self.ref[r]]
        else:  # no CRM-only people to copy: these rows are plain new contacts
            self.scenario[np.isin(self.scenario, ["namesake_new", "sibling_new"])] = "new"
        for name in ("format", "broken", "domain_typo", "local_typo", "different_email",
                     "namesake_new", "sibling_new", "invalid"):  # fmt: skip
            r = self.rows(name)
            self.gr_email[r] = self.corrupted(name, r)
        self.crm_add(
            np.full(len(self.only_email), -1), self.only_first, self.only_last,
            corrupt.crm_case(rng, self.only_email, missing=0.03), False,
        )  # fmt: skip

    def corrupted(self, name: str, r: np.ndarray) -> np.ndarray:
        rng, email = self.rng, self.email
        if name == "format":
            return corrupt.formatting(rng, email[r])
        if name == "broken":
            return addresses.broken(rng, email[r])
        if name == "domain_typo":
            return corrupt.domain_typo(rng, email[r])
        if name == "local_typo":
            return corrupt.local_typo(rng, email[r])
        if name in ("different_email", "namesake_new"):
            return corrupt.new_address(rng, self.gr_first[r], self.gr_last[r], email[r])
        if name == "sibling_new":
            ref = self.ref[r]
            sib_first, sib_email = corrupt.sibling(
                rng, self.only_first[ref], self.only_last[ref], self.only_email[ref]
            )
            self.gr_first[r] = sib_first
            return sib_email
        if name == "invalid":
            return corrupt.invalid(rng, email[r])
        return self.gr_email[r]

    def repair_collisions(self) -> None:
        """Redraw GR addresses that landed by chance on another CRM contact's mailbox (a typo
        that happens to be someone else's address), so that the labels stay true."""
        crm_e = np.concatenate([p["e"].to_numpy(dtype=object) for p in self.crm_parts])
        crm_keys = normalize_emails(pd.Series(crm_e, dtype=object))["email_key"].to_numpy()
        crm_owner = np.concatenate(self.owner)
        hits = pd.DataFrame({"key": crm_keys, "owner": crm_owner}).dropna()
        rows = np.arange(len(self.gr_email))
        for _ in range(5):
            bad = self._collisions(hits, rows)
            redraw = bad[np.isin(self.scenario[bad], _REDRAWN)]
            if not len(redraw):
                break
            for name in np.unique(self.scenario[redraw]).tolist():
                r = redraw[self.scenario[redraw] == name]
                self.gr_email[r] = self.corrupted(name, r)
            rows = redraw
        # Still colliding (no other draw for this scenario): the row becomes an unusable
        # address of nobody in the CRM, so that no label is wrong.
        bad = self._collisions(hits, np.arange(len(self.gr_email)))
        self.scenario[bad] = "invalid"
        self.gr_email[bad] = None
        for owner in self.owner:
            owner[np.isin(owner, bad)] = -1

    def _collisions(self, hits: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
        """Those of ``rows`` whose address is the mailbox of a CRM record that is not them."""
        gr_keys = normalize_emails(pd.Series(self.gr_email[rows], dtype=object))["email_key"]
        mine = pd.DataFrame({"key": gr_keys.to_numpy(), "row": rows})
        joined = mine.merge(hits, on="key")
        found = joined["row"].to_numpy()
        allowed = (joined["owner"].to_numpy() == found) | np.isin(
            self.scenario[found], ["shared_other", "shared_mailbox"]
        )
        return np.unique(found[~allowed])


def _prefer(scenario: np.ndarray, name: str, fits: np.ndarray) -> None:
    """Swap ``name`` labels onto rows where ``fits`` holds (in place, counts unchanged)."""
    misfits = np.flatnonzero((scenario == name) & ~fits)
    hosts = np.flatnonzero((scenario != name) & fits)[: len(misfits)]
    misfits = misfits[: len(hosts)]
    scenario[misfits], scenario[hosts] = scenario[hosts], name


def _truth(n_gr: int, owner: np.ndarray, crm_ids: np.ndarray) -> np.ndarray:
    """Per GR row, the ids of the CRM records that are this person, sorted, "|"-joined."""
    has = owner >= 0
    rows, ids = owner[has], crm_ids[has]
    order = np.lexsort((ids, rows))
    rows, ids = rows[order], ids[order]
    out = np.full(n_gr, "", dtype=object)
    first = np.r_[True, rows[1:] != rows[:-1]] if len(rows) else np.zeros(0, bool)
    out[rows[first]] = ids[first]
    for at in np.flatnonzero(~first).tolist():  # a person in the CRM twice
        out[rows[at]] = f"{out[rows[at]]}|{ids[at]}"
    return out


__all__ = ["BENCH_MIX", "HARD_MIX", "MATCHED", "NAME_VARIANTS", "SCENARIOS", "pairs", "uuids"]
