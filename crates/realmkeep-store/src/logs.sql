-- game_logs: the append-only guard and the month partitions, called by `logs.rs` (partitions) and
-- fired by the triggers of migrations 1, 2 and 20261201000003 (the guard). A source file, applied
-- by `Store::migrate` whenever it changed (see `sql_sources.rs`): edit these here, never in a
-- migration. SQLSTATEs: the table in `error.rs`.

-- UPDATE, DELETE and TRUNCATE of game_logs (and of each partition) are refused: old months leave
-- only through `realmkeep logs archive` (detach and drop after a verified export).
CREATE OR REPLACE FUNCTION game_logs_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'game_logs is append-only' USING ERRCODE = '42501';
END
$$;

-- Creates the month partition holding `at`, if missing, guarded against TRUNCATE like the parent
-- (a statement trigger on the parent does not fire for a partition truncated directly). Name:
-- game_logs_yYYYYmMM. `at` must lie within ten years of now (RK020): a month further away is a
-- bug of the caller, not a partition to create.
CREATE OR REPLACE FUNCTION ensure_game_logs_partition(at timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    lo   timestamptz;
    hi   timestamptz;
    name text;
BEGIN
    IF at IS NULL OR at NOT BETWEEN now() - interval '10 years' AND now() + interval '10 years' THEN
        RAISE EXCEPTION 'log_partition_month' USING ERRCODE = 'RK020';
    END IF;
    lo := date_trunc('month', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    hi := (date_trunc('month', at AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
    name := 'game_logs_y' || to_char(at AT TIME ZONE 'UTC', 'YYYY') || 'm' || to_char(at AT TIME ZONE 'UTC', 'MM');
    IF to_regclass(name) IS NULL THEN
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF game_logs FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
        PERFORM guard_game_logs_partitions();
    END IF;
    RETURN name;
END
$$;
