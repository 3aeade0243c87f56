-- The trade as one server-side function, called by `trade.rs` (one round trip instead of a
-- dozen, so a trade costs about what a simple update costs: see `realmkeep bench store`). The
-- rules are the same as everywhere: both characters locked in ascending id order, the actors'
-- claims checked, items moved between bags (in place when the receiving bags have room: an
-- update of the bag row, which keeps the item in `inventories`; out and in again when a full bag
-- swaps, checked by the placement trigger at commit), gold both ways, log rows in the same
-- transaction.
--
-- A source file, applied by `Store::migrate` after the migrations whenever it changed (see
-- `sql_sources.rs`): edit it here, never in a migration. Each refusal raises its own SQLSTATE
-- (the table is in `error.rs`), so the whole statement, and with it the transaction, is rolled
-- back and the caller learns why without reading the message.

CREATE OR REPLACE FUNCTION realmkeep_trade(
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
    moved integer;
    from_a integer;
    from_b integer;
    a_free smallint[];
    b_free smallint[];
BEGIN
    -- The arguments first: bad input changes nothing, and each kind of bad input has its code.
    IF a_id IS NULL OR b_id IS NULL OR a_id = b_id THEN
        RAISE EXCEPTION 'trade_characters' USING ERRCODE = 'RK010';
    END IF;
    IF gold_max IS NULL OR gold_max < 0 OR gold_max > 1000000000000
       OR inventory_slots IS NULL OR inventory_slots NOT BETWEEN 1 AND 60 THEN
        RAISE EXCEPTION 'trade_limits' USING ERRCODE = 'RK015';
    END IF;
    IF a_gold IS NULL OR b_gold IS NULL OR a_gold NOT BETWEEN 0 AND gold_max
       OR b_gold NOT BETWEEN 0 AND gold_max THEN
        RAISE EXCEPTION 'trade_gold' USING ERRCODE = 'RK011';
    END IF;
    -- Plain expressions (no subquery) where they do: plpgsql evaluates them without the executor.
    IF a_items IS NULL OR b_items IS NULL
       OR coalesce(array_ndims(a_items), 1) <> 1 OR coalesce(array_ndims(b_items), 1) <> 1
       OR array_position(a_items, NULL) IS NOT NULL OR array_position(b_items, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'trade_items' USING ERRCODE = 'RK012';
    END IF;
    IF cardinality(a_items) > inventory_slots OR cardinality(b_items) > inventory_slots THEN
        RAISE EXCEPTION 'trade_items_too_many' USING ERRCODE = 'RK014';
    END IF;
    IF cardinality(a_items) + cardinality(b_items) > 1
       AND (SELECT count(DISTINCT i) FROM unnest(a_items || b_items) AS i)
           <> cardinality(a_items) + cardinality(b_items) THEN
        RAISE EXCEPTION 'trade_item_twice' USING ERRCODE = 'RK013';
    END IF;
    IF trade_ref IS NULL OR length(trade_ref) NOT BETWEEN 1 AND 64 THEN
        RAISE EXCEPTION 'trade_ref' USING ERRCODE = 'RK016';
    END IF;
    IF cardinality(a_items) = 0 AND cardinality(b_items) = 0 AND a_gold = 0 AND b_gold = 0 THEN
        RAISE EXCEPTION 'trade_empty' USING ERRCODE = 'RK017';
    END IF;

    -- `gold::bigint`: a record's field keeps the type it had when the session first planned an
    -- expression over it, so a column whose type changes (to a domain) would fail every later
    -- call in that session (42804); the cast keeps the field's type whatever the column's.
    FOR r IN SELECT id, gold::bigint AS gold, claim_epoch, claim_holder IS NOT NULL AS held,
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
        RAISE EXCEPTION 'stale_claim' USING ERRCODE = 'RK002';
    END IF;
    IF (a_epoch IS NULL AND a_row.live) OR (b_epoch IS NULL AND b_row.live) THEN
        RAISE EXCEPTION 'claim_held' USING ERRCODE = 'RK003';
    END IF;
    IF a_row.gold < a_gold OR b_row.gold < b_gold THEN
        RAISE EXCEPTION 'not_enough_gold' USING ERRCODE = 'RK004';
    END IF;
    IF a_row.gold - a_gold + b_gold > gold_max OR b_row.gold - b_gold + a_gold > gold_max THEN
        RAISE EXCEPTION 'too_much_gold' USING ERRCODE = 'RK005';
    END IF;

    -- The free slots of each side that receives items (`bag.sql`).
    a_free := realmkeep_free_slots(a_id, inventory_slots, cardinality(b_items));
    b_free := realmkeep_free_slots(b_id, inventory_slots, cardinality(a_items));

    IF cardinality(a_free) = cardinality(b_items) AND cardinality(b_free) = cardinality(a_items) THEN
        -- Each receiving bag has room beside what it gives: every item changes bags in place.
        -- The item stays in `inventories`, so its place does not change kind: no placement
        -- check at commit (the trigger watches `item_id` and `location`), and no foreign-key
        -- check and lock of its `item_instances` row, as a delete and an insert would cost.
        UPDATE inventories v
        SET character_id = CASE WHEN v.character_id = a_id THEN b_id ELSE a_id END,
            slot = CASE WHEN v.character_id = a_id THEN b_free[array_position(a_items, v.item_id)]
                        ELSE a_free[array_position(b_items, v.item_id)] END
        -- One probe of the item's unique index per item; the owner is a filter (written as one
        -- comparison: as an OR of two, the generic plan intersected bitmaps of both indexes).
        WHERE v.item_id = ANY (a_items || b_items)
          AND v.character_id = CASE WHEN v.item_id = ANY (a_items) THEN a_id ELSE b_id END;
        GET DIAGNOSTICS moved = ROW_COUNT;
        IF moved <> cardinality(a_items) + cardinality(b_items) THEN
            RAISE EXCEPTION 'item_not_owned' USING ERRCODE = 'RK006';
        END IF;
    ELSE
        -- A bag has room only in the slots its own items leave (a full bag swapping): out
        -- first, then the gaps counted again, then in.
        WITH gone AS (
            DELETE FROM inventories
            WHERE (character_id = a_id AND item_id = ANY (a_items))
               OR (character_id = b_id AND item_id = ANY (b_items))
            RETURNING character_id, item_id)
        SELECT count(*) FILTER (WHERE character_id = a_id), count(*) FILTER (WHERE character_id = b_id)
        INTO from_a, from_b FROM gone;
        IF from_a <> cardinality(a_items) OR from_b <> cardinality(b_items) THEN
            RAISE EXCEPTION 'item_not_owned' USING ERRCODE = 'RK006';
        END IF;
        a_free := realmkeep_free_slots(a_id, inventory_slots, cardinality(b_items));
        b_free := realmkeep_free_slots(b_id, inventory_slots, cardinality(a_items));
        IF cardinality(a_free) < cardinality(b_items) OR cardinality(b_free) < cardinality(a_items) THEN
            RAISE EXCEPTION 'inventory_full' USING ERRCODE = 'RK007';
        END IF;
        INSERT INTO inventories (character_id, slot, item_id)
        SELECT a_id, t.slot, t.item FROM UNNEST(b_items, a_free) AS t(item, slot)
        UNION ALL
        SELECT b_id, t.slot, t.item FROM UNNEST(a_items, b_free) AS t(item, slot);
    END IF;

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
