-- The alert rollups keep their smallest duration too, so percentiles are
-- clamped to the observed range as the findings' are (the p50 of one sample
-- is that sample).  Existing rows get it from the rebuild 0040 queued.
ALTER TABLE rollups ADD COLUMN min_ms INTEGER;
INSERT INTO rollups_pending (reason) VALUES ('0041 rollups min_ms')
    ON CONFLICT (reason) DO NOTHING;
