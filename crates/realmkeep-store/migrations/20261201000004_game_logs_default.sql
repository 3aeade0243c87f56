-- game_logs: a row whose month has no partition must never fail the economy transaction that
-- writes it (every trade, pickup and quest writes its log row). It lands in the DEFAULT
-- partition instead; the nodes' partition upkeep raises an alert when DEFAULT holds rows and
-- moves them into their month's partition when it creates that partition.
CREATE TABLE game_logs_default PARTITION OF game_logs DEFAULT;

-- Creates the month partition holding `at`, if missing. Name: game_logs_yYYYYmMM.
--
-- Several nodes run the upkeep: one creator at a time (a transaction-scoped advisory lock), and
-- the name checked again under it. PostgreSQL refuses to create a partition whose range already
-- has rows in DEFAULT, so when DEFAULT holds rows of this month they move in the same
-- transaction: DEFAULT is locked (no row can arrive meanwhile), the month's rows are copied into
-- a plain table and removed from DEFAULT (the append-only trigger is off for that one statement,
-- on that one partition, inside this transaction), and the table is attached as the month's
-- partition. Nothing is lost: either all of it commits or none of it does.
CREATE OR REPLACE FUNCTION ensure_game_logs_partition(at timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    lo   timestamptz := date_trunc('month', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    hi   timestamptz := (date_trunc('month', at AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
    name text := 'game_logs_y' || to_char(at AT TIME ZONE 'UTC', 'YYYY') || 'm' || to_char(at AT TIME ZONE 'UTC', 'MM');
BEGIN
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
        RETURN name;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE game_logs INCLUDING DEFAULTS)', name);
    EXECUTE format('INSERT INTO %I SELECT * FROM game_logs_default WHERE occurred_at >= $1 AND occurred_at < $2', name)
        USING lo, hi;
    ALTER TABLE game_logs_default DISABLE TRIGGER game_logs_append_only;
    DELETE FROM game_logs_default WHERE occurred_at >= lo AND occurred_at < hi;
    ALTER TABLE game_logs_default ENABLE TRIGGER game_logs_append_only;
    EXECUTE format('ALTER TABLE game_logs ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
    RETURN name;
END
$$;
