-- realmkeep:contract drops `item_instances_def`, an index no release's query reads.
--
-- It was made with the schema (migration 20261127000001) to serve lookups of items by their
-- definition, and no query of any release does one: items are read by id, by their place, or
-- by their owner's bag (a pickup's stack search goes through the bag). Every item written pays
-- for it: a new item adds an entry, and so does every move, which changes `location`, part of
-- the `(id, location)` key the place tables refer to, so the new row version is never a HOT
-- update. Many items share a definition, so the index's pages are long runs of one key, and
-- PostgreSQL's bottom-up deletion pass ran through them on most moves: the index cost a
-- purchase 2.8 % of its server instructions (callgrind, docs/BENCHMARKS.md).
--
-- What it still served: the foreign key of `def_id` looks items up by definition when a
-- definition is deleted or renumbered. No release does either (content is upserted by id, and a
-- definition in use is refused), so such a statement, run by hand, now scans `item_instances`
-- before it is refused as before (`tests/rule_constraints.rs`).
--
-- Dropping an index takes its table exclusively for a moment: `lock_timeout` bounds how long
-- players' actions queue behind the migration; a lock it cannot have fails it, changing
-- nothing, and it runs again.
SET LOCAL lock_timeout = '500ms';

DROP INDEX item_instances_def;
