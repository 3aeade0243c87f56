-- realmkeep:contract replaces the two constraint triggers of `item_instances` by narrower ones
-- in the same transaction, under the same names and with the same functions; no release relies
-- on them firing for an update that leaves the columns their rules read.
--
-- `item_must_be_placed` checked every update of an item; whether an item stands in its place
-- changes only with its `location` or its `id` (an identity, which `SET id = DEFAULT` still
-- renews; a place row that moves or goes is checked by the place table's own trigger). It now
-- watches those two: a stack that grows (a pickup merging into it) is no longer checked for its
-- place.
--
-- `item_rules` watched `location` besides `def_id` and `quantity`. The stack limit reads only
-- those two; the rules of the place an item goes to are checked by the triggers of the places
-- that have rules (`equipment`, `marketplace_listings`: every insert and update), and an item can
-- change its `location` to one of them only with such a row inserted or updated in the same
-- transaction (its foreign key on `(item_id, location)` is checked at the commit, and an existing
-- row cannot hold the new key: `ON UPDATE RESTRICT`, migration 20261204000010). A move into a bag
-- or a mail (a purchase, a claim) is no longer checked for rules that cannot apply there. The
-- two triggers cost a purchase 6 % of its server instructions (callgrind, docs/BENCHMARKS.md).
--
-- Dropping a trigger takes its table exclusively: `lock_timeout` bounds how long players'
-- actions queue behind the migration; a lock it cannot have fails it, changing nothing, and it
-- runs again.
SET LOCAL lock_timeout = '500ms';

DROP TRIGGER item_must_be_placed ON item_instances;
CREATE CONSTRAINT TRIGGER item_must_be_placed AFTER INSERT OR UPDATE OF id, location ON item_instances
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_item_placed();

DROP TRIGGER item_rules ON item_instances;
CREATE CONSTRAINT TRIGGER item_rules AFTER INSERT OR UPDATE OF def_id, quantity ON item_instances
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_item_rules();
