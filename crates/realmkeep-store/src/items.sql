-- The placement rule of every item (an item instance stands in exactly the one place its
-- `location` names), run at commit by the deferred constraint triggers `item_must_be_placed` on
-- item_instances and on each place table (migration 1). A source file, applied by
-- `Store::migrate` whenever it changed (see `sql_sources.rs`): edit the rule here, never in a
-- migration.

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
    ELSIF TG_TABLE_NAME <> 'item_instances' AND loc <> OLD.location THEN
        -- A place row gone (or changed) whose item now stands elsewhere: either the item moved
        -- in this transaction (until then the place row's foreign key held its `location`), so
        -- its own row's trigger checks it in its new place at this commit, or the row was new in
        -- this transaction and never placed it. Checking it here too would only repeat that (a
        -- purchase, a listing, a claim of mail each moved an item so).
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
