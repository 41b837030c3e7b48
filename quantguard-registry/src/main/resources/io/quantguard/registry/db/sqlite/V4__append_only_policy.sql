-- A policy text is what change-log hashes point at: refuse edits and deletions.
CREATE TRIGGER policy_no_update BEFORE UPDATE ON policy
BEGIN
  SELECT RAISE(ABORT, 'policy texts are append-only');
END;
CREATE TRIGGER policy_no_delete BEFORE DELETE ON policy
BEGIN
  SELECT RAISE(ABORT, 'policy texts are append-only');
END;
