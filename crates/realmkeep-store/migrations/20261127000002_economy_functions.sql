-- Release 1, continued: the trade function, a lighter placement check, TRUNCATE refused on
-- game_logs, and loot keys for exactly-once pickups.
--
-- A trade as one server-side function: one round trip instead of a dozen, so a trade costs about
-- what a simple update costs (see `realmkeep bench store`). The rules are the same as everywhere:
-- both characters locked in ascending id order, the actors' claims checked, items moved between
-- bags (the placement trigger still checks every item at commit), gold both ways, log rows in the
-- same transaction. A refusal raises SQLSTATE RK001 with the refusal's name as the message, so
-- the whole statement, and with it the transaction, is rolled back.

CREATE FUNCTION realmkeep_trade(
    a_id bigint, a_epoch bigint, a_items bigint[], a_gold bigint,
    b_id bigint, b_epoch bigint, b_items bigint[], b_gold bigint,
    trade_ref text, gold_max bigint, inventory_slots integer
) RETURNS TABLE (a_received bigint[], a_slots smallint[], b_received bigint[], b_slots smallint[],
                 a_gold_after bigint, b_gold_after bigint)
LANGUAGE plpgsql
-- Custom plans would be re-planned on every call (array arguments make them look cheaper than
-- the generic plan); the generic plans are right for these key lookups and halve a trade's cost.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    r record;
    a_row record;
    b_row record;
    n integer := 0;
    from_a bigint[];
    from_b bigint[];
    a_free smallint[];
    b_free smallint[];
BEGIN
    FOR r IN SELECT id, gold, claim_epoch, claim_holder IS NOT NULL AS held,
                    (claim_holder IS NOT NULL AND claim_expires_at > now()) AS live
             FROM characters WHERE id IN (a_id, b_id) ORDER BY id FOR UPDATE
    LOOP
        n := n + 1;
        IF r.id = a_id THEN a_row := r; ELSE b_row := r; END IF;
    END LOOP;
    IF n <> 2 THEN
        RAISE EXCEPTION 'not_found' USING ERRCODE = 'RK001';
    END IF;
    -- An epoch means a zone acts and must hold the current claim; NULL means out of the world,
    -- refused while a live claim holds the character.
    IF (a_epoch IS NOT NULL AND (NOT a_row.held OR a_row.claim_epoch <> a_epoch))
       OR (b_epoch IS NOT NULL AND (NOT b_row.held OR b_row.claim_epoch <> b_epoch)) THEN
        RAISE EXCEPTION 'stale_claim' USING ERRCODE = 'RK001';
    END IF;
    IF (a_epoch IS NULL AND a_row.live) OR (b_epoch IS NULL AND b_row.live) THEN
        RAISE EXCEPTION 'claim_held' USING ERRCODE = 'RK001';
    END IF;
    IF a_row.gold < a_gold OR b_row.gold < b_gold THEN
        RAISE EXCEPTION 'not_enough_gold' USING ERRCODE = 'RK001';
    END IF;
    IF a_row.gold - a_gold + b_gold > gold_max OR b_row.gold - b_gold + a_gold > gold_max THEN
        RAISE EXCEPTION 'too_much_gold' USING ERRCODE = 'RK001';
    END IF;

    WITH gone AS (
        DELETE FROM inventories
        WHERE (character_id = a_id AND item_id = ANY (a_items)) OR (character_id = b_id AND item_id = ANY (b_items))
        RETURNING character_id, item_id)
    SELECT coalesce(array_agg(item_id) FILTER (WHERE character_id = a_id), '{}'),
           coalesce(array_agg(item_id) FILTER (WHERE character_id = b_id), '{}')
    INTO from_a, from_b FROM gone;
    IF cardinality(from_a) <> cardinality(a_items) OR cardinality(from_b) <> cardinality(b_items) THEN
        RAISE EXCEPTION 'item_not_owned' USING ERRCODE = 'RK001';
    END IF;

    a_free := '{}';
    b_free := '{}';
    IF cardinality(b_items) > 0 THEN
        SELECT coalesce(array_agg(s ORDER BY s), '{}') INTO a_free FROM (
            SELECT s::smallint FROM generate_series(0, inventory_slots - 1) s
            WHERE NOT EXISTS (SELECT 1 FROM inventories v WHERE v.character_id = a_id AND v.slot = s)
            ORDER BY s LIMIT cardinality(b_items)) f;
    END IF;
    IF cardinality(a_items) > 0 THEN
        SELECT coalesce(array_agg(s ORDER BY s), '{}') INTO b_free FROM (
            SELECT s::smallint FROM generate_series(0, inventory_slots - 1) s
            WHERE NOT EXISTS (SELECT 1 FROM inventories v WHERE v.character_id = b_id AND v.slot = s)
            ORDER BY s LIMIT cardinality(a_items)) f;
    END IF;
    IF cardinality(a_free) < cardinality(b_items) OR cardinality(b_free) < cardinality(a_items) THEN
        RAISE EXCEPTION 'inventory_full' USING ERRCODE = 'RK001';
    END IF;

    INSERT INTO inventories (character_id, slot, item_id)
    SELECT a_id, t.slot, t.item FROM UNNEST(b_items, a_free) AS t(item, slot)
    UNION ALL
    SELECT b_id, t.slot, t.item FROM UNNEST(a_items, b_free) AS t(item, slot);

    UPDATE characters c SET gold = CASE c.id WHEN a_id THEN c.gold - a_gold + b_gold ELSE c.gold - b_gold + a_gold END
    WHERE c.id IN (a_id, b_id);

    INSERT INTO game_logs (event_type, actor_character_id, target_character_id, item_id, item_def_id, quantity, gold, details)
    SELECT 'trade', a_id, b_id, NULL, NULL, NULL, a_gold, jsonb_build_object('trade', trade_ref, 'a_items', a_items,
            'b_items', b_items, 'a_gold', a_gold, 'b_gold', b_gold)
    UNION ALL
    SELECT 'trade_item', CASE WHEN t.item = ANY (a_items) THEN a_id ELSE b_id END,
           CASE WHEN t.item = ANY (a_items) THEN b_id ELSE a_id END, i.id, i.def_id, i.quantity, NULL,
           jsonb_build_object('trade', trade_ref)
    FROM UNNEST(a_items || b_items) AS t(item) JOIN item_instances i ON i.id = t.item;

    RETURN QUERY SELECT b_items, a_free, a_items, b_free, a_row.gold - a_gold + b_gold, b_row.gold - b_gold + a_gold;
END
$$;

-- The placement check of every item, without the per-row call of item_placement_count: one
-- direct index lookup on the table the item's location names.
CREATE OR REPLACE FUNCTION check_item_placed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    item bigint;
    loc  text;
    n    integer;
BEGIN
    IF TG_TABLE_NAME = 'item_instances' THEN
        item := NEW.id;
    ELSE
        item := OLD.item_id;
    END IF;
    SELECT location INTO loc FROM item_instances WHERE id = item;
    IF loc IS NULL THEN
        RETURN NULL;
    ELSIF loc = 'inventory' THEN
        SELECT count(*) INTO n FROM inventories WHERE item_id = item;
    ELSIF loc = 'equipment' THEN
        SELECT count(*) INTO n FROM equipment WHERE item_id = item;
    ELSIF loc = 'mail' THEN
        SELECT count(*) INTO n FROM mail_attachments WHERE item_id = item;
    ELSE
        SELECT count(*) INTO n FROM marketplace_listings WHERE item_id = item;
    END IF;
    IF n <> 1 THEN
        RAISE EXCEPTION 'item % is not in exactly one place (location %)', item, loc
            USING ERRCODE = '23514', CONSTRAINT = 'item_must_be_placed';
    END IF;
    RETURN NULL;
END
$$;

-- game_logs is append-only: TRUNCATE is refused like UPDATE and DELETE. Old months leave only
-- through `realmkeep logs archive` (detach and drop after a verified export).
CREATE TRIGGER game_logs_no_truncate BEFORE TRUNCATE ON game_logs
    FOR EACH STATEMENT EXECUTE FUNCTION game_logs_append_only();

-- Loot pickups already committed, by the zone's key for the loot on the ground, so a pickup whose
-- commit went through but whose answer was lost cannot create the item a second time when it is
-- tried again. Keys are needed only while loot lies on the ground (60 s); pickups prune old ones.
CREATE TABLE loot_pickups (
    loot_key        text        PRIMARY KEY,
    character_id    bigint      NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX loot_pickups_created ON loot_pickups (created_at);
