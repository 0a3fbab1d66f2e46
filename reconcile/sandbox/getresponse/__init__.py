"""A local emulator of the GetResponse v3 API (standard and MAX hosts), backed by SQLite.

Layout (after moto): state and rules in ``models.py`` (shared state, lists), ``catalog.py``
(tags, custom fields, senders, blocklist), ``contacts.py``, ``queue.py`` (asynchronous adds),
``messages.py`` and ``statistics.py`` (newsletters), ``imports.py``; ``db.py`` the SQLite schema
and ids; ``views.py`` / ``queries.py`` / ``paging.py`` how lists are filtered, rendered and paged;
``routes.py`` the paths and verbs; ``errors.py`` the real error bodies; ``ratelimit.py`` the
throttling; ``control.py`` the ``/__sandbox__/`` surface; ``seed.py`` / ``sample_data.py``
scenario and sample data; ``service.py`` the :class:`GetResponseSandbox` that ties them up;
``coverage.py`` generates docs/getresponse-sandbox-coverage.md.
"""

from reconcile.sandbox.getresponse.ratelimit import RateLimits
from reconcile.sandbox.getresponse.service import GetResponseSandbox

__all__ = ["GetResponseSandbox", "RateLimits"]
