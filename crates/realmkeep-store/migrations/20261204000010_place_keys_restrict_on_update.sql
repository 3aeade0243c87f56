-- realmkeep:contract the four foreign keys that hold an item in its place are dropped and added
-- again with `ON UPDATE RESTRICT` instead of the default `NO ACTION`, in the same transaction
-- and under the same names; no release relies on the difference: every flow of this release
-- and of the one before deletes an item's old place row before it changes the item's
-- `location` (`common.rs`: `take_from_inventory`, then `relocate` or `place_in_inventory`;
-- `market.sql`), so the check may run at once instead of at the commit.
--
-- Why: when an item moves, its `location` (half of the key these rows reference) changes, and
-- PostgreSQL checks each of the four place tables for a row still holding the old key. Under
-- `NO ACTION` the check is deferred to the commit and runs two queries per table (first: does
-- another row of `item_instances` hold the old key?); `RESTRICT` runs only the second, at once.
-- A purchase paid 5 % of its server instructions for the first queries (callgrind,
-- docs/BENCHMARKS.md). What is refused does not change: an item's row cannot leave a place row
-- behind (SQLSTATE 23503, under the same constraint names), and a place row must match its
-- item's `location` at the commit, as before (that side stays deferred).
--
-- The five tables are locked first (dropping a foreign key takes its tables exclusively, so the
-- locks are taken whole rather than upgraded one by one). `lock_timeout` applies to each table's
-- lock separately, and players' actions queue behind a lock the migration waits for: 500 ms per
-- table, so at most 2.5 s in all, and a lock it cannot have fails the migration, which changes
-- nothing and is run again. No order of the five fits every flow (a purchase reads the listing
-- before the bag, a listing the bag before the listing): a transaction caught in a deadlock with
-- the migration is run again by the store (`in_tx!`), a single read fails once. The constraints
-- are added `NOT VALID` (no scan under the lock: rows are checked from now on) and validated by
-- the next migration, which lets reads and writes go on while it scans.
SET LOCAL lock_timeout = '500ms';
LOCK TABLE inventories, equipment, mail_attachments, marketplace_listings, item_instances
    IN ACCESS EXCLUSIVE MODE;

ALTER TABLE inventories DROP CONSTRAINT inventories_item_id_location_fkey,
    ADD CONSTRAINT inventories_item_id_location_fkey FOREIGN KEY (item_id, location)
        REFERENCES item_instances (id, location) ON UPDATE RESTRICT
        DEFERRABLE INITIALLY DEFERRED NOT VALID;
ALTER TABLE equipment DROP CONSTRAINT equipment_item_id_location_fkey,
    ADD CONSTRAINT equipment_item_id_location_fkey FOREIGN KEY (item_id, location)
        REFERENCES item_instances (id, location) ON UPDATE RESTRICT
        DEFERRABLE INITIALLY DEFERRED NOT VALID;
ALTER TABLE mail_attachments DROP CONSTRAINT mail_attachments_item_id_location_fkey,
    ADD CONSTRAINT mail_attachments_item_id_location_fkey FOREIGN KEY (item_id, location)
        REFERENCES item_instances (id, location) ON UPDATE RESTRICT
        DEFERRABLE INITIALLY DEFERRED NOT VALID;
ALTER TABLE marketplace_listings DROP CONSTRAINT marketplace_listings_item_id_location_fkey,
    ADD CONSTRAINT marketplace_listings_item_id_location_fkey FOREIGN KEY (item_id, location)
        REFERENCES item_instances (id, location) ON UPDATE RESTRICT
        DEFERRABLE INITIALLY DEFERRED NOT VALID;
