-- The audit chain becomes keyed: from entry `keyed_from` on, each entry's
-- hash is an HMAC-SHA-256 under a secret kept outside this database
-- (AUDIT_HMAC_KEY, or DATA_DIR/audit-hmac.key; see src/identity/audit-key.ts),
-- so whoever owns this database can edit entries but no longer recompute a
-- chain that verifies.
--
-- Entries written before keep their plain SHA-256 rule: re-keying them would
-- need the key here, and the app role may not rewrite the log anyway. They
-- need no more: the first keyed entry's MAC covers their head (its
-- prev_hash), so editing any of them and re-hashing the old part breaks that
-- entry. The switch-over point itself is pinned by the anchors in the funding
-- database (audit_anchors.keyed_from): moving it, to pass keyed entries off
-- as old ones, is reported by `missionlink audit verify`.
CREATE TABLE audit_chain (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  keyed_from bigint NOT NULL CHECK (keyed_from > 0)
);

-- The appends' lock (src/identity/audit.ts): no entry is half-written while
-- the switch-over point is read, even with processes of the old version still
-- appending.
SELECT pg_advisory_xact_lock(72101);
INSERT INTO audit_chain (keyed_from) SELECT coalesce(max(seq), 0) + 1 FROM audit_log;

CREATE FUNCTION audit_chain_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_chain is fixed (% refused)', TG_OP;
END;
$$;

CREATE TRIGGER audit_chain_no_change BEFORE INSERT OR UPDATE OR DELETE ON audit_chain
  FOR EACH ROW EXECUTE FUNCTION audit_chain_fixed();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
  FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_fixed();
