"""reconcile: move a GetResponse base into Dynamics 365 and keep the two in step.

The public library API is re-exported here; the CLI (``reconcile.cli``) is a thin layer on
top of it.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
