-- realmkeep:contract replaces the two constraint triggers of `item_instances` by narrower ones
-- in the same transaction, under the same names and with the same functions (and adds a third);
-- no release relies on them firing for an update that leaves the columns their rules read.
--
-- `item_must_be_placed` checked every update of an item; whether an item stands in its place
-- changes only with its `location` or its `id` (an identity, which `SET id = DEFAULT` still
-- renews; a place row that moves or goes is checked by the place table's own trigger). It now
-- watches those two: a stack that grows (a pickup merging into it) is no longer checked for its
-- place.
--
-- `item_rules` watched `location` besides `def_id` and `quantity`, so every move ran it at the
-- commit. Only the places that have rules need it: `equipment` (the slot) and `market` (the
-- listing shows the item). It now watches `def_id` and `quantity` (the stack limit, and the rules
-- of wherever the item stands), and a second trigger, `item_rules_on_arrival`, watches `location`
-- for a move into one of those two places (its `WHEN` is evaluated as the row changes: a move
-- into a bag or a mail, such as a purchase or a claim, queues nothing). The place rows' own
-- triggers are not enough alone: with `SET CONSTRAINTS item_rules IMMEDIATE` an equipment row
-- written before the item's move is checked while the item still stands in the bag, and passes;
-- the arrival trigger, under its own name, checks the item after its move. The change saves a
-- purchase 4 % of its server instructions (callgrind, docs/BENCHMARKS.md).
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
CREATE CONSTRAINT TRIGGER item_rules_on_arrival AFTER UPDATE OF location ON item_instances
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.location IN ('equipment', 'market'))
    EXECUTE FUNCTION check_item_rules();
