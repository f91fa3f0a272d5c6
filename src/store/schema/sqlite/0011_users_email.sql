-- Users are looked up by lower(email) = lower(?) on both databases (the
-- SQL store); this index keeps that lookup indexed on SQLite, as
-- PostgreSQL's unique index on lower(email) does there.  Uniqueness stays
-- with the column's UNIQUE COLLATE NOCASE (the same ASCII folding).
CREATE INDEX users_email_lower ON users (lower(email));

-- Expired sessions are swept by expires_at on every login (PostgreSQL has
-- the same index).
CREATE INDEX sessions_expiry ON sessions (expires_at);
