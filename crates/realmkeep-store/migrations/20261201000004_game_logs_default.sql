-- game_logs: a row whose month has no partition must never fail the economy transaction that
-- writes it (every trade, pickup and quest writes its log row). It lands in the DEFAULT
-- partition instead; the nodes' partition upkeep raises an alert when DEFAULT holds rows and
-- moves them into their month's partition when it creates that partition.
CREATE TABLE game_logs_default PARTITION OF game_logs DEFAULT;

-- ensure_game_logs_partition, which moves DEFAULT's rows of a month into that month's new
-- partition, is defined once, in the source file `src/logs.sql`, applied right after the
-- migrations.
