-- A loot pickup as one server-side function, called by `items.rs` (one round trip instead of a
-- dozen; see `realmkeep bench store`). The rules are those of the Rust it replaced: the actor's
-- claim checked under the character's row lock, the loot key taken at most once (a retry by the
-- same character is answered with nothing new; by another, refused), the quantity merged into the
-- bag's stacks of the same item (lowest slot first) and the rest placed as a new stack in the
-- lowest free slot, one log row in the same transaction. The placement and item-rule triggers
-- still check every item at commit.
--
-- A source file, applied by `Store::migrate` after the migrations whenever it changed (see
-- `sql_sources.rs`): edit it here, never in a migration. Each refusal raises its own SQLSTATE
-- (the table is in `error.rs`).

CREATE OR REPLACE FUNCTION realmkeep_pickup(
    c_id bigint, c_epoch bigint, p_def integer, p_qty integer, p_zone integer,
    p_origin text, p_key text, inventory_slots integer
) RETURNS TABLE (o_merged_ids bigint[], o_merged_qtys integer[], o_created bigint,
                 o_slot smallint, o_qty integer)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_row record;
    v_stack record;
    v_max integer;
    v_left integer := p_qty;
    v_add integer;
    v_ids bigint[] := '{}';
    v_qtys integer[] := '{}';
    v_slot smallint;
    v_free bigint;
    v_new bigint;
    v_owner bigint;
BEGIN
    IF c_id IS NULL OR p_def IS NULL OR p_qty IS NULL OR p_qty < 1
       OR p_origin IS NULL OR length(p_origin) NOT BETWEEN 1 AND 64
       OR (p_key IS NOT NULL AND length(p_key) NOT BETWEEN 1 AND 200)
       OR inventory_slots IS NULL OR inventory_slots NOT BETWEEN 1 AND 60 THEN
        RAISE EXCEPTION 'pickup_arguments' USING ERRCODE = 'RK024';
    END IF;
    SELECT c.claim_epoch, c.claim_holder IS NOT NULL AS held,
           (c.claim_holder IS NOT NULL AND c.claim_expires_at > now()) AS live
      INTO v_row FROM characters c WHERE c.id = c_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'not_found' USING ERRCODE = 'RK001';
    END IF;
    IF c_epoch IS NOT NULL AND (NOT v_row.held OR v_row.claim_epoch <> c_epoch) THEN
        RAISE EXCEPTION 'stale_claim' USING ERRCODE = 'RK002';
    END IF;
    IF c_epoch IS NULL AND v_row.live THEN
        RAISE EXCEPTION 'claim_held' USING ERRCODE = 'RK003';
    END IF;

    -- Old keys are pruned by the node's job scheduler (`Store::prune_keys_at`), not here.
    IF p_key IS NOT NULL THEN
        INSERT INTO loot_pickups (loot_key, character_id) VALUES (p_key, c_id)
        ON CONFLICT (loot_key) DO NOTHING RETURNING character_id INTO v_owner;
        IF v_owner IS NULL THEN
            SELECT k.character_id INTO v_owner FROM loot_pickups k WHERE k.loot_key = p_key;
            IF v_owner = c_id THEN
                -- Picked up before under this key: nothing new.
                RETURN QUERY SELECT '{}'::bigint[], '{}'::integer[], NULL::bigint, NULL::smallint,
                                    NULL::integer;
                RETURN;
            END IF;
            RAISE EXCEPTION 'loot_taken' USING ERRCODE = 'RK022';
        END IF;
    END IF;

    SELECT d.max_stack INTO v_max FROM item_definitions d WHERE d.id = p_def;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'item_definition' USING ERRCODE = 'RK021';
    END IF;
    IF v_max > 1 THEN
        FOR v_stack IN
            SELECT i.id, i.quantity FROM inventories inv JOIN item_instances i ON i.id = inv.item_id
            WHERE inv.character_id = c_id AND i.def_id = p_def AND i.quantity < v_max
            ORDER BY inv.slot FOR UPDATE OF i
        LOOP
            EXIT WHEN v_left = 0;
            v_add := least(v_left, v_max - v_stack.quantity);
            UPDATE item_instances SET quantity = quantity + v_add WHERE id = v_stack.id;
            v_left := v_left - v_add;
            v_ids := v_ids || v_stack.id;
            v_qtys := v_qtys || (v_stack.quantity + v_add);
        END LOOP;
    END IF;
    IF v_left > v_max THEN
        RAISE EXCEPTION 'pickup_stack' USING ERRCODE = 'RK023';
    END IF;
    IF v_left > 0 THEN
        -- The lowest free slot, as `market.sql` finds it.
        SELECT coalesce(min(x.g) FILTER (WHERE x.slot <> x.g), count(*)) INTO v_free
          FROM (SELECT inv.slot, row_number() OVER (ORDER BY inv.slot) - 1 AS g
                  FROM inventories inv WHERE inv.character_id = c_id) x;
        IF v_free < inventory_slots THEN
            v_slot := v_free;
        END IF;
        IF v_slot IS NULL THEN
            RAISE EXCEPTION 'inventory_full' USING ERRCODE = 'RK007';
        END IF;
        INSERT INTO item_instances (def_id, quantity, location, origin)
        VALUES (p_def, v_left, 'inventory', p_origin) RETURNING id INTO v_new;
        INSERT INTO inventories (character_id, slot, item_id) VALUES (c_id, v_slot, v_new);
    END IF;

    INSERT INTO game_logs (event_type, actor_character_id, item_id, item_def_id, quantity, zone_id, details)
    VALUES ('loot_pickup', c_id, v_new, p_def, p_qty, p_zone,
            jsonb_build_object('origin', p_origin, 'merged', cardinality(v_ids)));

    RETURN QUERY SELECT v_ids, v_qtys, v_new, v_slot, CASE WHEN v_new IS NULL THEN NULL ELSE v_left END;
END
$$;
