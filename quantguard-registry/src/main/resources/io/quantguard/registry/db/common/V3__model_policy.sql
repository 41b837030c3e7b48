-- Policies per model: a policy change is part of the audit trail like a promotion (issue #5).

-- Every policy text ever set, addressed by the SHA-256 of its UTF-8 bytes, so that each hash the
-- change log records can be read back. Never edited (the vendor migrations add triggers).
CREATE TABLE policy (
  sha256 TEXT PRIMARY KEY,
  text   TEXT NOT NULL
);

-- The policy in force per model: for one stage, or ('any') for every stage without its own.
-- Who set it, when and why is change-log entry change_seq (a POLICY entry with the old and new
-- hash).
CREATE TABLE model_policy (
  model         TEXT   NOT NULL REFERENCES model (name),
  stage         TEXT   NOT NULL
    CHECK (stage IN ('any', 'candidate', 'canary', 'production', 'archived')),
  policy_sha256 TEXT   NOT NULL REFERENCES policy (sha256),
  name          TEXT   NOT NULL,
  source        TEXT,
  change_seq    BIGINT NOT NULL REFERENCES change_log (seq),
  PRIMARY KEY (model, stage)
);
