-- Operators' accounts, apart from players': a name, a role and an Argon2id hash (as players'
-- passwords are hashed). An account is never deleted, only disabled, so every game_logs row and
-- ban that names an operator still names someone. The role's powers are `AdminRole` in the
-- domain crate.
CREATE TABLE admin_accounts (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text        NOT NULL CHECK (char_length(name) BETWEEN 3 AND 32),
    role          text        NOT NULL CHECK (role IN ('moderator', 'game_master', 'administrator')),
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    bigint      REFERENCES admin_accounts (id),
    disabled_at   timestamptz,
    last_login_at timestamptz
);
CREATE UNIQUE INDEX admin_accounts_name ON admin_accounts (lower(name));

-- The game servers' database role: `realmkeep serve` connects as a login role that is a member
-- of it (docs/OPERATIONS.md). It reads and writes the game's tables, and may only read and append
-- to game_logs: no UPDATE, DELETE or TRUNCATE, and, not owning it, no DROP or ALTER (so no
-- disabling of the append-only triggers either). Migrations run as the tables' owner.
--
-- A role belongs to the whole PostgreSQL cluster, so another database of the cluster may have
-- made it already, or be making it right now.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'realmkeep_game') THEN
        BEGIN
            CREATE ROLE realmkeep_game NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$$;

-- Every table and sequence of the schema, and those later migrations make (default privileges
-- of the migrating role).
DO $$
DECLARE
    s text := current_schema();
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO realmkeep_game', s);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO realmkeep_game', s);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO realmkeep_game', s);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO realmkeep_game', s);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO realmkeep_game', s);
END
$$;
REVOKE ALL ON _sqlx_migrations FROM realmkeep_game;

-- game_logs: read and append through the partitioned table (PostgreSQL checks the privileges of
-- the table a statement names, not of the partition a row lands in). The partitions themselves
-- grant nothing, but DEFAULT may be read: the nodes' partition upkeep counts its rows. New month
-- partitions are made by `ensure_game_logs_partition`, which runs as its owner and grants the
-- game role nothing on them (src/logs.sql).
REVOKE ALL ON game_logs FROM realmkeep_game;
GRANT SELECT, INSERT ON game_logs TO realmkeep_game;
DO $$
DECLARE
    p regclass;
BEGIN
    FOR p IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'game_logs'::regclass LOOP
        EXECUTE format('REVOKE ALL ON %s FROM realmkeep_game', p);
    END LOOP;
END
$$;
GRANT SELECT ON game_logs_default TO realmkeep_game;
REVOKE EXECUTE ON FUNCTION ensure_game_logs_partition(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ensure_game_logs_partition(timestamptz) TO realmkeep_game;
