-- /readyz's write probe: after writes failed (disk full, read-only), a
-- node proves they work again by rewriting its own row.
CREATE TABLE health_probe (
    node    TEXT PRIMARY KEY,
    at      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
