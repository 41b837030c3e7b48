-- A policy text is what change-log hashes point at: refuse edits and deletions.
CREATE FUNCTION policy_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'policy texts are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER policy_no_update BEFORE UPDATE OR DELETE ON policy
  FOR EACH ROW EXECUTE FUNCTION policy_append_only();
