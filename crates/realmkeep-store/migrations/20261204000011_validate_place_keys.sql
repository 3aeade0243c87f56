-- Validates the four place foreign keys added `NOT VALID` by the previous migration: one scan of
-- each place table, holding only `SHARE UPDATE EXCLUSIVE` on it (reads and writes go on) and
-- `ROW SHARE` on `item_instances`. Every row was valid before (the constraints it replaces held
-- them), so this only records that PostgreSQL checked it. With no statement timeout: the scans
-- block nobody, and at a million characters (50 million bag rows) they take about half a minute,
-- past the store's 30 s.
SET LOCAL statement_timeout = 0;
ALTER TABLE inventories VALIDATE CONSTRAINT inventories_item_id_location_fkey;
ALTER TABLE equipment VALIDATE CONSTRAINT equipment_item_id_location_fkey;
ALTER TABLE mail_attachments VALIDATE CONSTRAINT mail_attachments_item_id_location_fkey;
ALTER TABLE marketplace_listings VALIDATE CONSTRAINT marketplace_listings_item_id_location_fkey;
