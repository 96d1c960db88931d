-- 0004_zooid_provisioned: whether zooid is known to hold the relay's config, so a
-- change is pushed with PATCH (the secret is sent only by the POST that creates it).
-- Set when a POST succeeds or answers "relay with this id already exists"; cleared
-- when a PATCH answers "relay not found" (then the next push is a POST again).
ALTER TABLE relays ADD COLUMN zooid_provisioned INTEGER NOT NULL DEFAULT 0
  CHECK (zooid_provisioned IN (0, 1));
