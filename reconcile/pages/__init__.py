"""Web pages the toolkit writes (self-contained HTML: the only code that writes HTML)."""
