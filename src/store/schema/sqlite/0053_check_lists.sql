-- 0053: every CHECK (x IN ('a', 'b', 'c', ...)) becomes CHECK ((x = 'a' OR
-- x = 'b' OR ...)), the same constraint.
--
-- SQLite (3.40, Debian 12) evaluates an IN list of more than two constants
-- by building a temporary b-tree from the list, and in a CHECK it does so
-- for every row an INSERT or UPDATE writes: two of them per alert saved
-- (severity, state), ~20 k instructions, 17 % of the scheduler's work per
-- breach and 9 % of a bulk ingest (callgrind; docs/benchmarks.md).  A chain
-- of comparisons costs a few instructions.
--
-- Only the schema's text changes, no row is rewritten and the on-disk
-- format is the same: the documented way of changing a CHECK constraint in
-- place (https://sqlite.org/lang_altertable.html#otheralter).  RESET turns
-- writable_schema off and reloads the schema on this connection; the
-- others parse it when they open.  Tables made later write their lists as
-- comparisons (test_store_tenants: test_schema_checks).
-- PostgreSQL has no such cost (= ANY of an array): no PostgreSQL 0053.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql,
    'severity IN (''critical'', ''high'', ''medium'', ''low'')',
    '(severity = ''critical'' OR severity = ''high'' OR severity = ''medium'' OR severity = ''low'')')
  WHERE type = 'table';
UPDATE sqlite_schema SET sql = replace(sql,
    'state IN (''open'', ''acknowledged'', ''resolved'')',
    '(state = ''open'' OR state = ''acknowledged'' OR state = ''resolved'')')
  WHERE type = 'table';
UPDATE sqlite_schema SET sql = replace(sql,
    'severity IN (''urgent'', ''critical'', ''high'', ''medium'', ''low'')',
    '(severity = ''urgent'' OR severity = ''critical'' OR severity = ''high'' OR severity = ''medium'' OR severity = ''low'')')
  WHERE type = 'table';
UPDATE sqlite_schema SET sql = replace(sql,
    'source IN (''project'', ''company'', ''global'', ''builtin'')',
    '(source = ''project'' OR source = ''company'' OR source = ''global'' OR source = ''builtin'')')
  WHERE type = 'table';
UPDATE sqlite_schema SET sql = replace(sql,
    'state IN (''open'', ''paused'', ''closed'', ''false_positive'',
                                     ''accepted_risk'', ''not_accessible'')',
    '(state = ''open'' OR state = ''paused'' OR state = ''closed'' OR state = ''false_positive'' OR state = ''accepted_risk'' OR state = ''not_accessible'')')
  WHERE type = 'table';
UPDATE sqlite_schema SET sql = replace(sql,
    'level IN (''L1'', ''L2'', ''L3'', ''Manager'', ''CISO'')',
    '(level = ''L1'' OR level = ''L2'' OR level = ''L3'' OR level = ''Manager'' OR level = ''CISO'')')
  WHERE type = 'table';
UPDATE sqlite_schema SET sql = replace(sql,
    'method IN (''email'', ''slack'', ''pager'', ''phone'')',
    '(method = ''email'' OR method = ''slack'' OR method = ''pager'' OR method = ''phone'')')
  WHERE type = 'table';
UPDATE sqlite_schema SET sql = replace(sql,
    'channel IN (''websocket'', ''email'', ''slack'', ''webhook'', ''pager'', ''phone'')',
    '(channel = ''websocket'' OR channel = ''email'' OR channel = ''slack'' OR channel = ''webhook'' OR channel = ''pager'' OR channel = ''phone'')')
  WHERE type = 'table';
UPDATE sqlite_schema SET sql = replace(sql,
    'state IN (''pending'', ''delivered'', ''dead'', ''digested'')',
    '(state = ''pending'' OR state = ''delivered'' OR state = ''dead'' OR state = ''digested'')')
  WHERE type = 'table';
UPDATE sqlite_schema SET sql = replace(sql,
    'state IN (''triggered'', ''acknowledged'', ''resolved'')',
    '(state = ''triggered'' OR state = ''acknowledged'' OR state = ''resolved'')')
  WHERE type = 'table';
UPDATE sqlite_schema SET sql = replace(sql,
    'status IN (''closed'', ''false_positive'', ''accepted_risk'',
                                    ''not_accessible'')',
    '(status = ''closed'' OR status = ''false_positive'' OR status = ''accepted_risk'' OR status = ''not_accessible'')')
  WHERE type = 'table';
PRAGMA writable_schema = RESET;
