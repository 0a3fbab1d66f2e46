"""The package's public names are exactly ``__all__``: nothing leaks, nothing is forgotten."""

from __future__ import annotations

import reconcile.dataverse as dataverse


def test_all_lists_every_public_name_once() -> None:
    public = sorted(
        name
        for name in vars(dataverse)
        if not name.startswith("_")
        and not isinstance(getattr(dataverse, name), type(dataverse))
        and name != "annotations"
    )
    assert sorted(dataverse.__all__) == public
    assert len(set(dataverse.__all__)) == len(dataverse.__all__)
