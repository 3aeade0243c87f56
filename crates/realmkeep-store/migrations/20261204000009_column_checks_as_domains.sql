-- realmkeep:contract each single-column CHECK of `characters`, and the bag slot's, moves onto a
-- domain of the column under the same constraint name in the same transaction; no release reads
-- these constraints, and the same values are refused as before. The previous release survives
-- the columns' new types while it serves (its connections met "cached plan must not change
-- result type" once and are replaced, its reads cast the arrays it decodes: `conns.rs`,
-- `tests/schema_change.rs`); the release before it would not, so this ships no earlier.
--
-- Why: PostgreSQL 15 reads a table's CHECK constraints from their stored text, plans and compiles
-- them again in every statement that writes the table, and checks them all whatever columns the
-- statement sets. A trade's or a purchase's update of a purse paid for ten of them each time: a
-- sixth of a trade's server instructions (callgrind, `docs/BENCHMARKS.md`). A domain's check is
-- planned once per connection (the type cache) and runs only where a value is assigned to a
-- column of that domain. What is allowed does not change: the same conditions, the same
-- SQLSTATE (23514) and the same constraint names in the errors. The checks that name two columns
-- (the claim's pair) and the `location` columns (watched by the placement triggers) stay on their
-- tables.
--
-- No table is rewritten: each column takes a domain without a check first (a catalog change: the
-- stored values stay as they are, and so do the indexes, but for the unique index on
-- `lower(name)`, which PostgreSQL builds again for an expression over a changed column), then its
-- table's CHECK is dropped and the domain's added, which scans its table once per domain to
-- validate it. Changing a column's type drops its statistics, so the changed columns are sampled
-- again at the end.
--
-- Both tables are locked at once, in the order the economy's transactions take them (`characters`,
-- then `inventories`), and held exclusively until the commit: loads, trades and saves of every
-- character wait for the migration (about a second at 100,000 characters, OPERATIONS.md). A lock
-- it cannot have within `lock_timeout` (a long transaction or a dump holding one) fails the
-- migration instead of queueing every player's action behind it; it is then run again.
SET LOCAL lock_timeout = '5s';
LOCK TABLE characters, inventories IN ACCESS EXCLUSIVE MODE;

CREATE DOMAIN rk_character_name AS text;
CREATE DOMAIN rk_character_class AS text;
CREATE DOMAIN rk_kingdom AS text;
CREATE DOMAIN rk_level AS integer;
CREATE DOMAIN rk_xp AS bigint;
CREATE DOMAIN rk_gold AS bigint;
CREATE DOMAIN rk_health AS integer;
CREATE DOMAIN rk_mana AS integer;
CREATE DOMAIN rk_pvp_kills AS integer;
CREATE DOMAIN rk_bag_slot AS smallint;

ALTER TABLE characters
    ALTER COLUMN name TYPE rk_character_name,
    ALTER COLUMN class TYPE rk_character_class,
    ALTER COLUMN kingdom TYPE rk_kingdom,
    ALTER COLUMN level TYPE rk_level,
    ALTER COLUMN xp TYPE rk_xp,
    ALTER COLUMN gold TYPE rk_gold,
    ALTER COLUMN health TYPE rk_health,
    ALTER COLUMN mana TYPE rk_mana,
    ALTER COLUMN pvp_kills TYPE rk_pvp_kills,
    DROP CONSTRAINT characters_name_trimmed,
    DROP CONSTRAINT characters_class_check,
    DROP CONSTRAINT characters_kingdom_check,
    DROP CONSTRAINT characters_level_check,
    DROP CONSTRAINT characters_xp_check,
    DROP CONSTRAINT characters_gold_check,
    DROP CONSTRAINT characters_health_check,
    DROP CONSTRAINT characters_mana_check,
    DROP CONSTRAINT characters_pvp_kills_check;
ALTER TABLE inventories
    ALTER COLUMN slot TYPE rk_bag_slot,
    DROP CONSTRAINT inventories_slot_check;

ALTER DOMAIN rk_character_name ADD CONSTRAINT characters_name_trimmed
    CHECK (VALUE <> '' AND VALUE !~ '^[[:space:]]|[[:space:]]$');
ALTER DOMAIN rk_character_class ADD CONSTRAINT characters_class_check
    CHECK (VALUE IN ('warrior', 'mage', 'ranger', 'cleric'));
ALTER DOMAIN rk_kingdom ADD CONSTRAINT characters_kingdom_check
    CHECK (VALUE IN ('aldor', 'veyra', 'korrim'));
ALTER DOMAIN rk_level ADD CONSTRAINT characters_level_check CHECK (VALUE >= 1 AND VALUE <= 60);
ALTER DOMAIN rk_xp ADD CONSTRAINT characters_xp_check CHECK (VALUE >= 0);
ALTER DOMAIN rk_gold ADD CONSTRAINT characters_gold_check
    CHECK (VALUE >= 0 AND VALUE <= 1000000000000);
ALTER DOMAIN rk_health ADD CONSTRAINT characters_health_check CHECK (VALUE >= 0);
ALTER DOMAIN rk_mana ADD CONSTRAINT characters_mana_check CHECK (VALUE >= 0);
ALTER DOMAIN rk_pvp_kills ADD CONSTRAINT characters_pvp_kills_check CHECK (VALUE >= 0);
ALTER DOMAIN rk_bag_slot ADD CONSTRAINT inventories_slot_check CHECK (VALUE >= 0 AND VALUE < 60);

ANALYZE characters (name, class, kingdom, level, xp, gold, health, mana, pvp_kills),
        inventories (slot);
