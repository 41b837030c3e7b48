-- Drift reference profiles (issue #13): what a version's inputs and outputs looked like on its
-- reference data (a JSON document, schema quantguard.drift-profile/N, kept as a blob), so that a
-- server compares live traffic with it. One per version; replacing it is a change-log entry
-- (change_seq is the latest) that keeps the old and new hash.
CREATE TABLE drift_profile (
  model          TEXT    NOT NULL,
  version        INTEGER NOT NULL,
  profile_sha256 TEXT    NOT NULL,
  change_seq     BIGINT  NOT NULL REFERENCES change_log (seq),
  PRIMARY KEY (model, version),
  FOREIGN KEY (model, version) REFERENCES artifact_version (model, version)
);
