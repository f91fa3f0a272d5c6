-- The alert rollups keep their smallest duration too (SQLite 0041).
ALTER TABLE rollups ADD COLUMN min_ms BIGINT;
INSERT INTO rollups_pending (reason) VALUES ('0041 rollups min_ms')
    ON CONFLICT (reason) DO NOTHING;
