-- The change log is an audit trail: refuse edits and deletions.
CREATE TRIGGER change_log_no_update BEFORE UPDATE ON change_log
BEGIN
  SELECT RAISE(ABORT, 'the change log is append-only');
END;
CREATE TRIGGER change_log_no_delete BEFORE DELETE ON change_log
BEGIN
  SELECT RAISE(ABORT, 'the change log is append-only');
END;
