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
--
-- Several nodes run the upkeep: one creator at a time (a transaction-scoped advisory lock), and
-- the name checked again under it. PostgreSQL refuses to create a partition whose range already
-- has rows in DEFAULT (migration 20261201000004), so when DEFAULT holds rows of this month they
-- move in the same transaction: DEFAULT is locked (no row can arrive meanwhile), the month's rows
-- are copied into a plain table and removed from DEFAULT (the append-only trigger is off for that
-- one statement, on that one partition, inside this transaction), and the table is attached as
-- the month's partition. Nothing is lost: either all of it commits or none of it does.
--
-- It runs as its owner (SECURITY DEFINER; the search path pinned to Realmkeep's schema with pg_temp
-- last, so no temporary table of the caller can stand in for a real one): the game
-- servers' role (`realmkeep_game`, migration 20261201154500) owns nothing and may not create a
-- partition, alter DEFAULT's trigger or delete from it, yet every node keeps the months ahead.
-- The role gets no privilege on a new partition: its rows are read and appended through
-- game_logs.
CREATE OR REPLACE FUNCTION ensure_game_logs_partition(at timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
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
    IF to_regclass(name) IS NOT NULL THEN
        RETURN name;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('realmkeep:game_logs_partitions'));
    LOCK TABLE game_logs_default IN ACCESS EXCLUSIVE MODE;
    -- Checked again from the catalog table, with this statement's snapshot: another node may
    -- have created the partition while this one waited for the lock.
    IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_class p ON p.oid = 'game_logs'::regclass
               WHERE c.relname = name AND c.relnamespace = p.relnamespace) THEN
        RETURN name;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM game_logs_default WHERE occurred_at >= lo AND occurred_at < hi) THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF game_logs FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
    ELSE
        EXECUTE format('CREATE TABLE %I (LIKE game_logs INCLUDING DEFAULTS)', name);
        EXECUTE format('INSERT INTO %I SELECT * FROM game_logs_default WHERE occurred_at >= $1 AND occurred_at < $2', name)
            USING lo, hi;
        ALTER TABLE game_logs_default DISABLE TRIGGER game_logs_append_only;
        DELETE FROM game_logs_default WHERE occurred_at >= lo AND occurred_at < hi;
        ALTER TABLE game_logs_default ENABLE TRIGGER game_logs_append_only;
        EXECUTE format('ALTER TABLE game_logs ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'realmkeep_game') THEN
        EXECUTE format('REVOKE ALL ON %I FROM realmkeep_game', name);
    END IF;
    PERFORM guard_game_logs_partitions();
    RETURN name;
END
$$;
