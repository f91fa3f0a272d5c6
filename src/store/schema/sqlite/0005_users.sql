-- Users (people who log in to the dashboard), their roles per tenant, their
-- sessions, login throttling, and the append-only audit log of every write.

-- password_hash: libsodium's crypto_pwhash_str (argon2id, self-describing),
-- NULL for a user who cannot log in (no password set).
CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash   TEXT,
    created_at      INTEGER NOT NULL,
    disabled        INTEGER NOT NULL DEFAULT 0
) STRICT;

-- tenant_id '' = every tenant (platform_admin only). No foreign key to
-- tenants because of that ''; the API checks the tenant exists.
CREATE TABLE user_roles (
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    tenant_id       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, tenant_id, role)
) STRICT, WITHOUT ROWID;
CREATE INDEX user_roles_tenant ON user_roles (tenant_id, user_id);

-- A session is known by the BLAKE2b hash of its cookie value (like tokens).
-- expires_at is the absolute end; the idle limit is checked against last_seen.
CREATE TABLE sessions (
    hash            BLOB PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    last_seen       INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed logins per key ('email:<lower-case email>' or 'ip:<address>'):
-- failures counted in a window starting at window_start; locked_until > now
-- refuses every attempt (429) whatever the password.
CREATE TABLE login_throttle (
    key             TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    window_start    INTEGER NOT NULL,
    locked_until    INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;

-- Who changed what, when, and what it was before. tenant_id '' = platform.
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    tenant_id       TEXT NOT NULL DEFAULT '',
    actor           TEXT NOT NULL,
    at              INTEGER NOT NULL,
    action          TEXT NOT NULL,
    target          TEXT NOT NULL DEFAULT '',
    before          TEXT,
    after           TEXT
) STRICT;
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);

CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
