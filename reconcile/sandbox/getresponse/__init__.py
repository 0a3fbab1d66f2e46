"""A local emulator of the GetResponse v3 API (standard and MAX hosts), backed by SQLite.

Layout (after moto): state and rules in ``models.py`` (shared state, lists), ``catalog.py``
(tags, custom fields, senders, blocklist), ``contacts.py``, ``queue.py`` (asynchronous adds),
``messages.py`` and ``statistics.py`` (newsletters), ``imports.py``; ``db.py`` the SQLite schema
and ids; ``views.py`` / ``queries.py`` / ``paging.py`` how lists are filtered, rendered and paged;
``account.py`` the :class:`Account` that holds them (state, clock, limiter, faults);
``seed.py`` / ``sample_data.py`` scenario and sample data put into an account;
``routes.py`` the paths and verbs; ``errors.py`` the real error bodies; ``ratelimit.py`` the
throttling; ``control.py`` the ``/__sandbox__/`` surface; ``service.py`` the
:class:`GetResponseSandbox` (an account with its ASGI app) that ties them up;
``coverage.py`` generates docs/getresponse-sandbox-coverage.md. Imports go one way: state
and rules → seed data → routes and control → service (a test keeps it so).
"""

from reconcile.sandbox.getresponse.ratelimit import RateLimits
from reconcile.sandbox.getresponse.service import GetResponseSandbox

__all__ = ["GetResponseSandbox", "RateLimits"]
