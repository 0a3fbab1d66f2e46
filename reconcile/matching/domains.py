"""Domain typo correction: ``gmial.com`` is gmail.com, ``orange.fe`` is orange.fr.

People mistype the domain part of their address often enough that a migration must recover
those contacts, yet a wrong correction would glue two companies together. So a domain is
corrected only when it is not itself a known mailbox provider, and then only

1. through a table of typos seen in French customer bases (``KNOWN_TYPOS``);
2. through a mistyped top-level domain (``.con``, ``.fe``, ``.nte`` ...) whose fix is a known
   domain;
3. through one edit (insert, delete, substitute, swap two neighbours) to a known provider or
   to a domain used by many more contacts than this one (a company's real domain), when that
   target is the only one within one edit.

The result is a mapping applied to the few thousand distinct domains, never per address.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rapidfuzz.distance import OSA

# Consumer mailbox providers common in France and its neighbours (and the big international
# ones). A domain in this list is never "corrected" into another one.
PROVIDERS = frozenset(
    {
        "gmail.com", "googlemail.com", "hotmail.fr", "hotmail.com", "hotmail.be", "hotmail.ch",
        "hotmail.co.uk", "hotmail.de", "hotmail.it", "hotmail.es", "outlook.fr", "outlook.com",
        "outlook.be", "outlook.de", "outlook.es", "outlook.it", "live.fr", "live.com", "live.be",
        "live.co.uk", "msn.com", "yahoo.fr", "yahoo.com", "yahoo.co.uk", "yahoo.de", "yahoo.es",
        "yahoo.it", "ymail.com", "rocketmail.com", "orange.fr", "wanadoo.fr", "free.fr",
        "sfr.fr", "neuf.fr", "cegetel.net", "club-internet.fr", "laposte.net", "bbox.fr",
        "numericable.fr", "noos.fr", "aliceadsl.fr", "alice.fr", "voila.fr", "aol.com", "aol.fr",
        "icloud.com", "me.com", "mac.com", "gmx.fr", "gmx.com", "gmx.de", "gmx.net", "web.de",
        "protonmail.com", "protonmail.ch", "proton.me", "pm.me", "tutanota.com", "zoho.com",
        "yandex.ru", "yandex.com", "mail.ru", "libero.it", "skynet.be", "telenet.be",
        "bluewin.ch", "sunrise.ch", "fastmail.com", "hushmail.com", "qq.com",
        "163.com", "btinternet.com", "sky.com", "orange.com", "wanadoo.com",
    }
)  # fmt: skip

# Typos seen in real French bases whose intended domain is unambiguous.
KNOWN_TYPOS: Mapping[str, str] = {
    **dict.fromkeys(
        ("gmial.com", "gmai.com", "gmal.com", "gmil.com", "gamil.com", "gnail.com", "gmaill.com",
         "gemail.com", "gmail.fr", "gmail.co", "gmail.con", "gmail.cm", "gmail.om", "gmail.comm",
         "gmaim.com", "gmeil.com", "gmaul.com", "gmsil.com", "g-mail.com", "gmail.cpm"),
        "gmail.com",
    ),
    **dict.fromkeys(
        ("hotmial.fr", "hotmal.fr", "hotmai.fr", "homail.fr", "hotmail.fe", "hotmail.ft",
         "hotmil.fr", "hotamil.fr", "hotmaill.fr", "hotmail.fr.fr", "hormail.fr", "hotmeil.fr"),
        "hotmail.fr",
    ),
    **dict.fromkeys(
        ("hotmial.com", "hotmal.com", "hotmai.com", "homail.com", "hotmail.con", "hotmail.co"),
        "hotmail.com",
    ),
    **dict.fromkeys(
        ("ornage.fr", "oange.fr", "orang.fr", "orange.fe", "orange.ft", "oragne.fr",
         "orannge.fr"),
        "orange.fr",
    ),
    **dict.fromkeys(
        ("wanado.fr", "wanadou.fr", "wannadoo.fr", "wanaddo.fr", "wandoo.fr", "wanadoo.fe",
         "wanadoo.ft", "wanadoo.fr.fr"),
        "wanadoo.fr",
    ),
    **dict.fromkeys(("yahou.fr", "yaho.fr", "yahooo.fr", "yhaoo.fr", "yahoo.fe"), "yahoo.fr"),
    **dict.fromkeys(("yahou.com", "yaho.com", "yahoo.con", "yhaoo.com"), "yahoo.com"),
    **dict.fromkeys(("laposte.fr", "lapost.net", "laposte.ne", "laposte.nte", "lapsote.net"),
                    "laposte.net"),
    **dict.fromkeys(("fre.fr", "freee.fr", "free.fe", "frre.fr"), "free.fr"),
    **dict.fromkeys(("outlok.fr", "outlouk.fr", "outloock.fr", "outlook.fe"), "outlook.fr"),
    **dict.fromkeys(("outlok.com", "outlouk.com", "outlook.con", "outllok.com"), "outlook.com"),
    **dict.fromkeys(("icloud.fr", "iclould.com", "icoud.com", "icloud.con"), "icloud.com"),
    **dict.fromkeys(("sfr.fe", "srf.fr"), "sfr.fr"),
}  # fmt: skip

# A mistyped top-level domain and what it stands for.
TLD_TYPOS: Mapping[str, str] = {
    "con": "com", "cm": "com", "om": "com", "cpm": "com", "comm": "com", "vom": "com",
    "xom": "com", "fe": "fr", "ft": "fr", "frr": "fr", "rf": "fr", "fr.fr": "fr", "nte": "net",
    "ne": "net", "nett": "net", "co": "com",
}  # fmt: skip

# A company domain is a correction target when it has at least this many contacts and at
# least ``_DOMINANCE`` times as many as the domain being corrected.
_MIN_TARGET_COUNT = 3
_DOMINANCE = 5
_MIN_NAME_LENGTH = 4  # shorter names ("sfe.fr") are only corrected towards a known provider
_MIN_PROVIDER_NAME = 3  # and never below this ("ab.fr" could be anything)
_PROVIDER_WEIGHT = 1_000  # a known provider counts as this many extra contacts


def correct_domains(domains: Iterable[str], counts: Mapping[str, int]) -> dict[str, str]:
    """Map each distinct domain that looks mistyped to the domain it stands for.

    ``counts`` is how many contacts (both sides) use each domain; domains absent from the
    result are left as they are.
    """
    uniq = sorted({d for d in domains if isinstance(d, str) and d})
    fixed: dict[str, str] = {}
    targets = set(PROVIDERS) | {d for d, c in counts.items() if c >= _MIN_TARGET_COUNT}
    rest: list[str] = []
    for domain in uniq:
        if domain in PROVIDERS:
            continue
        if domain in KNOWN_TYPOS:
            fixed[domain] = KNOWN_TYPOS[domain]
            continue
        name, _, tld = domain.partition(".")
        for typo, tld_fix in TLD_TYPOS.items():
            if domain.endswith("." + typo):
                candidate = domain[: -len(typo)] + tld_fix
                own = max(counts.get(domain, 0), 1)
                if candidate in PROVIDERS or counts.get(candidate, 0) >= _DOMINANCE * own:
                    fixed[domain] = candidate
                break
        else:
            if len(name) >= _MIN_PROVIDER_NAME and tld:
                rest.append(domain)
    fixed.update(_one_edit(rest, targets, counts))
    return fixed


def _one_edit(domains: list[str], targets: set[str], counts: Mapping[str, int]) -> dict[str, str]:
    """Targets one edit away, found through shared one-deletion variants (linear time).

    A domain one edit from several targets goes to the one used by ``_DOMINANCE`` times more
    contacts than any other (``outook.fr``: outlook.fr, not the 5-contact typo ``outkook.fr``);
    with no such clear winner it is left alone.
    """
    targets = targets - set(domains)  # a domain being corrected is nobody's target
    index: dict[str, set[str]] = {}
    for target in targets:
        for variant in _deletions(target):
            index.setdefault(variant, set()).add(target)
    fixed: dict[str, str] = {}
    for domain in domains:
        found = {
            t
            for variant in _deletions(domain)
            for t in index.get(variant, ())
            if OSA.distance(domain, t, score_cutoff=1) <= 1
        }
        own = max(counts.get(domain, 0), 1)
        ranked = sorted(
            ((counts.get(t, 0) + (_PROVIDER_WEIGHT if t in PROVIDERS else 0), t) for t in found),
            reverse=True,
        )
        ranked = [(n, t) for n, t in ranked if t in PROVIDERS or n >= _DOMINANCE * own]
        if not ranked:
            continue
        short = len(domain.partition(".")[0]) < _MIN_NAME_LENGTH
        if short and ranked[0][1] not in PROVIDERS:
            continue
        if len(ranked) == 1 or ranked[0][0] >= _DOMINANCE * ranked[1][0]:
            fixed[domain] = ranked[0][1]
    return fixed


def _deletions(text: str) -> set[str]:
    return {text, *(text[:i] + text[i + 1 :] for i in range(len(text)))}
