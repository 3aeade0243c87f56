-- A marketplace purchase as one server-side function, called by `market.rs` (one round trip
-- instead of a dozen; see `realmkeep bench store`). The rules are those of the Rust it replaced:
-- buyer and seller locked in ascending id order (the seller only so that crediting it cannot
-- deadlock with another purchase), the buyer's claim checked, the listing still live and taken
-- off, the price from the buyer, the price less the house's fee to the seller, the item into
-- the buyer's lowest free slot, one log row, all in one transaction. The placement and item-rule
-- triggers still check the item at commit.
--
-- A source file, applied by `Store::migrate` after the migrations whenever it changed (see
-- `sql_sources.rs`): edit it here, never in a migration. Each refusal raises its own SQLSTATE
-- (the table is in `error.rs`).

CREATE OR REPLACE FUNCTION realmkeep_market_buy(
    b_id bigint, b_epoch bigint, p_listing bigint, fee_bps bigint, gold_max bigint,
    inventory_slots integer
) RETURNS TABLE (o_item bigint, o_def integer, o_qty integer, o_price bigint, o_fee bigint,
                 o_seller bigint, o_slot smallint, o_gold_after bigint)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_seller bigint;
    v_row record;
    v_buyer record;
    v_seller_row record;
    v_n integer := 0;
    v_listing record;
    v_fee bigint;
    v_slot smallint;
    v_free bigint;
    v_after bigint;
BEGIN
    IF b_id IS NULL OR p_listing IS NULL OR fee_bps IS NULL OR fee_bps NOT BETWEEN 0 AND 9999
       OR gold_max IS NULL OR gold_max NOT BETWEEN 0 AND 1000000000000
       OR inventory_slots IS NULL OR inventory_slots NOT BETWEEN 1 AND 60 THEN
        RAISE EXCEPTION 'market_buy_arguments' USING ERRCODE = 'RK032';
    END IF;
    SELECT l.seller_character_id INTO v_seller FROM marketplace_listings l WHERE l.id = p_listing;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'listing_gone' USING ERRCODE = 'RK030';
    END IF;
    IF v_seller = b_id THEN
        RAISE EXCEPTION 'own_listing' USING ERRCODE = 'RK031';
    END IF;
    -- `gold::bigint`: the field keeps one type whatever the column's (see `trade.sql`).
    FOR v_row IN SELECT c.id, c.gold::bigint AS gold, c.claim_epoch,
                        c.claim_holder IS NOT NULL AS held,
                        (c.claim_holder IS NOT NULL AND c.claim_expires_at > now()) AS live
                 FROM characters c WHERE c.id IN (b_id, v_seller) ORDER BY c.id FOR UPDATE
    LOOP
        v_n := v_n + 1;
        IF v_row.id = b_id THEN v_buyer := v_row; ELSE v_seller_row := v_row; END IF;
    END LOOP;
    IF v_n <> 2 THEN
        RAISE EXCEPTION 'not_found' USING ERRCODE = 'RK001';
    END IF;
    IF b_epoch IS NOT NULL AND (NOT v_buyer.held OR v_buyer.claim_epoch <> b_epoch) THEN
        RAISE EXCEPTION 'stale_claim' USING ERRCODE = 'RK002';
    END IF;
    IF b_epoch IS NULL AND v_buyer.live THEN
        RAISE EXCEPTION 'claim_held' USING ERRCODE = 'RK003';
    END IF;
    -- The listing is taken off here, before the checks below: a refusal raises, and the whole
    -- transaction (this delete with it) rolls back. One statement locks, checks and removes it.
    DELETE FROM marketplace_listings l
     WHERE l.id = p_listing AND l.seller_character_id = v_seller AND l.expires_at > now()
    RETURNING l.item_id, l.item_def_id, l.quantity, l.price INTO v_listing;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'listing_gone' USING ERRCODE = 'RK030';
    END IF;
    v_fee := least(greatest(div(v_listing.price::numeric * fee_bps, 10000)::bigint, 0), v_listing.price);
    -- The lowest free slot: where the bag's slots, read in order along its key, first skip a
    -- number, or after the last (one pass over the bag; testing each slot against the bag was
    -- 4 % of a purchase's server instructions, docs/BENCHMARKS.md).
    SELECT coalesce(min(x.g) FILTER (WHERE x.slot <> x.g), count(*)) INTO v_free
      FROM (SELECT inv.slot, row_number() OVER (ORDER BY inv.slot) - 1 AS g
              FROM inventories inv WHERE inv.character_id = b_id) x;
    IF v_free < inventory_slots THEN
        v_slot := v_free;
    END IF;
    IF v_slot IS NULL THEN
        RAISE EXCEPTION 'inventory_full' USING ERRCODE = 'RK007';
    END IF;
    IF v_buyer.gold < v_listing.price THEN
        RAISE EXCEPTION 'not_enough_gold' USING ERRCODE = 'RK004';
    END IF;
    IF v_seller_row.gold + (v_listing.price - v_fee) > gold_max THEN
        RAISE EXCEPTION 'too_much_gold' USING ERRCODE = 'RK005';
    END IF;
    -- Both purses in one statement, from the rows locked above: PostgreSQL 15 plans every CHECK
    -- of `characters` again in each statement that writes it (ten of them until migration
    -- 20261204000009 moved nine onto domains). A second statement cost a purchase 8 % of its
    -- server instructions (callgrind, docs/BENCHMARKS.md).
    UPDATE characters c
       SET gold = CASE c.id WHEN b_id THEN c.gold - v_listing.price
                            ELSE c.gold + (v_listing.price - v_fee) END
     WHERE c.id IN (b_id, v_seller);
    v_after := v_buyer.gold - v_listing.price;
    UPDATE item_instances SET location = 'inventory'
     WHERE id = v_listing.item_id AND location <> 'inventory';
    INSERT INTO inventories (character_id, slot, item_id) VALUES (b_id, v_slot, v_listing.item_id);
    INSERT INTO game_logs (event_type, actor_character_id, target_character_id, item_id, item_def_id,
                           quantity, gold, details)
    VALUES ('market_buy', b_id, v_seller, v_listing.item_id, v_listing.item_def_id, v_listing.quantity,
            v_listing.price,
            jsonb_build_object('listing_id', p_listing, 'price', v_listing.price, 'fee', v_fee,
                               'seller_received', v_listing.price - v_fee, 'buyer', b_id,
                               'seller', v_seller, 'to_slot', v_slot));
    RETURN QUERY SELECT v_listing.item_id, v_listing.item_def_id, v_listing.quantity, v_listing.price,
                        v_fee, v_seller, v_slot, v_after;
END
$$;
