-- A bag's free slots, called by the trade (`trade.sql`). The pickup and the purchase, which want
-- one slot, keep their inline search (one pass over the bag in slot order, `market.sql`): with
-- this call they measured slower. A source file, applied
-- by `Store::migrate` whenever it changed (see `sql_sources.rs`): edit it here, never in a
-- migration.

-- The first `wanted` free slots of `who`'s bag of `slots` slots, ascending (fewer when the bag
-- has fewer gaps; none when `wanted` is 0). The occupied slots are read as one bit mask (a range
-- scan of the bag's primary key, one aggregate) and the gaps found by a loop over the mask's bits,
-- with no statement per slot: a bag has at most 60 slots (`INVENTORY_SLOTS`, asserted in
-- `trade.rs`), so the mask fits in a bigint. `slots` outside 1 to 64 is refused (RK018).
CREATE OR REPLACE FUNCTION realmkeep_free_slots(who bigint, slots integer, wanted integer)
RETURNS smallint[]
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    free smallint[] := '{}';
    taken bigint;
BEGIN
    IF slots IS NULL OR slots NOT BETWEEN 1 AND 64 THEN
        RAISE EXCEPTION 'bag_slots' USING ERRCODE = 'RK018';
    END IF;
    IF wanted IS NULL OR wanted <= 0 THEN
        RETURN free;
    END IF;
    SELECT coalesce(bit_or(1::bigint << v.slot), 0) INTO taken
    FROM inventories v WHERE v.character_id = who;
    FOR s IN 0 .. slots - 1 LOOP
        IF (taken >> s) & 1 = 0 THEN
            free := free || s::smallint;
            EXIT WHEN cardinality(free) = wanted;
        END IF;
    END LOOP;
    RETURN free;
END
$$;
