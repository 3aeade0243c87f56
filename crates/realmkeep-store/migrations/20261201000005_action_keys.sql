-- Idempotency keys of critical actions (trades, releases): a committed action leaves its key and
-- its receipt in the same transaction. After an answer lost during COMMIT, the server asks here
-- what happened; a key it finds without a row is recorded with a NULL receipt ("given up"), so
-- the lost attempt can never commit afterwards. Keys older than a day are pruned by the actions.
CREATE TABLE action_keys (
    action_key      text        PRIMARY KEY,
    receipt         jsonb,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX action_keys_created ON action_keys (created_at);
