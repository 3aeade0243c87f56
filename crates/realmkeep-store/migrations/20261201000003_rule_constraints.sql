-- Rules the code already keeps, now kept by the database too, so that no path around the code
-- (an admin's psql, a script, a bug) can store a state the rules refuse:
-- - a ban names a reason and an issuer (not empty, not blank), and so does its revocation;
-- - names carry no surrounding white space, so with the lower() unique indexes no two characters,
--   guilds or accounts differ only by spaces;
-- - a stack holds at most its definition's max_stack;
-- - an equipped item sits in the slot its definition names;
-- - a market listing shows the item it holds: same definition, same quantity;
-- - TRUNCATE is refused on every month partition of game_logs, not only on the parent (a
--   statement trigger on a partitioned table does not fire for a partition truncated directly).
-- Every row the code writes already satisfies these, so they validate on existing databases.

ALTER TABLE bans ADD CONSTRAINT bans_reason_given CHECK (reason ~ '[^[:space:]]');
ALTER TABLE bans ADD CONSTRAINT bans_issuer_given CHECK (issued_by ~ '[^[:space:]]');
ALTER TABLE bans ADD CONSTRAINT bans_revocation_given
    CHECK ((revoked_by IS NULL OR revoked_by ~ '[^[:space:]]')
           AND (revoke_reason IS NULL OR revoke_reason ~ '[^[:space:]]'));

ALTER TABLE characters ADD CONSTRAINT characters_name_trimmed
    CHECK (name <> '' AND name !~ '^[[:space:]]|[[:space:]]$');
ALTER TABLE guilds ADD CONSTRAINT guilds_name_trimmed
    CHECK (name <> '' AND name !~ '^[[:space:]]|[[:space:]]$');
ALTER TABLE accounts ADD CONSTRAINT accounts_username_trimmed
    CHECK (username <> '' AND username !~ '^[[:space:]]|[[:space:]]$');

-- The rules of one item against its definition and its place, checked at commit (a move may
-- relocate an item before it inserts the place's row, like the placement check).
CREATE FUNCTION check_item_rules() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    item bigint;
    r    record;
    s    text;
    l    record;
BEGIN
    IF TG_TABLE_NAME = 'item_instances' THEN
        item := NEW.id;
    ELSE
        item := NEW.item_id;
    END IF;
    SELECT i.def_id, i.quantity, i.location, d.max_stack, d.equip_slot INTO r
    FROM item_instances i JOIN item_definitions d ON d.id = i.def_id WHERE i.id = item;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF r.quantity > r.max_stack THEN
        RAISE EXCEPTION 'item % holds % of definition %, whose stacks hold at most %',
            item, r.quantity, r.def_id, r.max_stack
            USING ERRCODE = '23514', CONSTRAINT = 'item_stack_within_max';
    END IF;
    IF r.location = 'equipment' THEN
        SELECT e.slot INTO s FROM equipment e WHERE e.item_id = item;
        IF FOUND AND s IS DISTINCT FROM r.equip_slot THEN
            RAISE EXCEPTION 'item % (definition %) is equipped in slot %, its definition names %',
                item, r.def_id, s, coalesce(r.equip_slot, 'no slot')
                USING ERRCODE = '23514', CONSTRAINT = 'item_equipped_in_its_slot';
        END IF;
    ELSIF r.location = 'market' THEN
        SELECT m.item_def_id, m.quantity INTO l FROM marketplace_listings m WHERE m.item_id = item;
        IF FOUND AND (l.item_def_id <> r.def_id OR l.quantity <> r.quantity) THEN
            RAISE EXCEPTION 'the listing of item % shows % of definition %; the item is % of %',
                item, l.quantity, l.item_def_id, r.quantity, r.def_id
                USING ERRCODE = '23514', CONSTRAINT = 'listing_matches_item';
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER item_rules AFTER INSERT OR UPDATE OF def_id, quantity, location
    ON item_instances DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_item_rules();
CREATE CONSTRAINT TRIGGER item_rules AFTER INSERT OR UPDATE ON equipment
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_item_rules();
CREATE CONSTRAINT TRIGGER item_rules AFTER INSERT OR UPDATE ON marketplace_listings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_item_rules();

-- The TRUNCATE guard on every partition of game_logs that lacks it; returns how many it guarded.
-- Called here for the partitions that exist, by ensure_game_logs_partition for each new one, and
-- by `Store::migrate` after every run (a partition made by any other path is guarded then).
CREATE FUNCTION guard_game_logs_partitions() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    p regclass;
    n integer := 0;
BEGIN
    FOR p IN SELECT i.inhrelid::regclass FROM pg_inherits i
             WHERE i.inhparent = 'game_logs'::regclass
               AND NOT EXISTS (SELECT 1 FROM pg_trigger t
                               WHERE t.tgrelid = i.inhrelid AND t.tgname = 'game_logs_no_truncate')
    LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER game_logs_no_truncate BEFORE TRUNCATE ON %s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION game_logs_append_only()', p);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

SELECT guard_game_logs_partitions();
