-- Anchors of the security audit chain, which lives in the identity database
-- (src/identity/audit-anchor.ts). An anchor records that the chain had
-- `entries` entries, the last one hashed `head`, and where its keyed hashes
-- start (`keyed_from`), under a MAC of the audit key (`key_id` names it).
-- Kept here, in the other database, so whoever owns the identity database
-- cannot take back entries up to the newest anchor, nor move its switch-over
-- point, unnoticed. Written by api processes every few seconds when the chain
-- grew; never read on a request path.
CREATE TABLE audit_anchors (
  id bigserial PRIMARY KEY,
  entries bigint NOT NULL CHECK (entries > 0),
  head text NOT NULL,
  keyed_from bigint NOT NULL CHECK (keyed_from > 0),
  key_id text NOT NULL,
  at timestamptz NOT NULL,
  mac text NOT NULL
);

-- The newest anchor is the one counting the most entries: api processes
-- anchor side by side, so it is not always the last one written.
CREATE INDEX audit_anchors_entries ON audit_anchors (entries);

CREATE FUNCTION audit_anchors_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_anchors is append-only (% refused)', TG_OP;
END;
$$;

CREATE TRIGGER audit_anchors_no_update BEFORE UPDATE OR DELETE ON audit_anchors
  FOR EACH ROW EXECUTE FUNCTION audit_anchors_append_only();
CREATE TRIGGER audit_anchors_no_truncate BEFORE TRUNCATE ON audit_anchors
  FOR EACH STATEMENT EXECUTE FUNCTION audit_anchors_append_only();
