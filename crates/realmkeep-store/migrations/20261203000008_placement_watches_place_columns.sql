-- realmkeep:contract replaces one trigger by a narrower one in the same transaction; no release
-- relies on it firing for an update that keeps `item_id` and `location`.
--
-- `item_must_be_placed` on `inventories` ran its check for every update of a bag row. An item
-- that changes bags (a trade) is now such an update of `character_id` and `slot` (`trade.sql`):
-- it stays in `inventories`, in one row, so where it stands does not change kind, and the check
-- could only pass. The trigger now watches the columns that can move an item out of its place:
-- `item_id` and `location` (and every delete, as before). The previous release's writes are
-- checked as before: it deletes and inserts to move an item, and its own updates of a bag row
-- change only `slot`.
DROP TRIGGER item_must_be_placed ON inventories;
CREATE CONSTRAINT TRIGGER item_must_be_placed AFTER DELETE OR UPDATE OF item_id, location ON inventories
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_item_placed();
