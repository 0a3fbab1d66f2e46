from __future__ import annotations

import reconcile.getresponse as gr


def test_all_lists_exactly_the_public_names() -> None:
    public = sorted(
        name
        for name, value in vars(gr).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("reconcile.")
    )
    constants = sorted(n for n in vars(gr) if n.isupper() and not n.startswith("_"))
    assert sorted(gr.__all__) == sorted(set(public) | set(constants))


def test_every_exported_error_is_a_getresponse_error() -> None:
    errors = [getattr(gr, n) for n in gr.__all__ if n.endswith(("Error", "Exists", "Denied"))]
    errors += [gr.NotFound, gr.RateLimited, gr.ForbiddenState, gr.ConnectionFailed]
    assert all(issubclass(e, gr.GetResponseError) for e in errors)
