-- The change log is an audit trail: refuse edits and deletions.
CREATE FUNCTION change_log_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'the change log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER change_log_no_update BEFORE UPDATE OR DELETE ON change_log
  FOR EACH ROW EXECUTE FUNCTION change_log_append_only();
