"""A local emulator of the GetResponse v3 API (standard and MAX hosts), backed by SQLite.

Layout (after moto): ``models.py`` / ``contacts.py`` / ``messages.py`` / ``imports.py`` hold
the state and rules, ``routes.py`` the paths and verbs, ``errors.py`` the real error bodies,
``paging.py`` the page-number listing, ``ratelimit.py`` the throttling, ``control.py`` the
``/__sandbox__/`` surface and ``seed.py`` the sample and scenario data.
"""

from reconcile.sandbox.getresponse.ratelimit import RateLimits
from reconcile.sandbox.getresponse.service import GetResponseSandbox

__all__ = ["GetResponseSandbox", "RateLimits"]
