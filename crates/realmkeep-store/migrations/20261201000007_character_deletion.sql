-- A deleted character is kept, with its items, skills and history, marked by `deleted_at`: an
-- operator can bring it back by clearing the column. A deleted character is not listed, cannot
-- be claimed (so never enters the world) and does not count against the account's limit; its
-- name stays taken.
ALTER TABLE characters ADD COLUMN deleted_at timestamptz;
CREATE INDEX characters_account_live ON characters (account_id) WHERE deleted_at IS NULL;
