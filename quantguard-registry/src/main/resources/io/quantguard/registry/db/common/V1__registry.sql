-- The registry's tables; the same on SQLite and PostgreSQL (portable types only: TEXT, INTEGER,
-- BIGINT; times are ISO-8601 UTC strings, JSON is TEXT).

-- One row that every write updates first: it serializes writers on both databases (a row lock on
-- PostgreSQL, the write lock on SQLite) and numbers the change log without gaps.
CREATE TABLE registry_state (
  id         INTEGER PRIMARY KEY,
  change_seq BIGINT NOT NULL
);
INSERT INTO registry_state (id, change_seq) VALUES (1, 0);

CREATE TABLE model (
  name       TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL
);

CREATE TABLE artifact_version (
  model                   TEXT    NOT NULL REFERENCES model (name),
  version                 INTEGER NOT NULL,
  stage                   TEXT    NOT NULL
    CHECK (stage IN ('candidate', 'canary', 'production', 'archived')),
  blob_sha256             TEXT    NOT NULL,
  size_bytes              BIGINT  NOT NULL,
  file_name               TEXT    NOT NULL,
  parent_model            TEXT,
  parent_version          INTEGER,
  recipe_json             TEXT,
  recipe_sha256           TEXT,
  quantization_mode       TEXT,
  calibration_fingerprint TEXT,
  calibration_samples     BIGINT,
  tool_version            TEXT,
  onnx_runtime            TEXT    NOT NULL,
  java_version            TEXT    NOT NULL,
  os                      TEXT    NOT NULL,
  cpu                     TEXT    NOT NULL,
  report_sha256           TEXT,
  registered_at           TEXT    NOT NULL,
  registered_by           TEXT    NOT NULL,
  note                    TEXT,
  PRIMARY KEY (model, version),
  FOREIGN KEY (parent_model, parent_version) REFERENCES artifact_version (model, version)
);
CREATE INDEX artifact_version_blob ON artifact_version (blob_sha256);
CREATE INDEX artifact_version_parent ON artifact_version (parent_model, parent_version);

-- Append-only (the vendor migrations add triggers that refuse UPDATE and DELETE).
CREATE TABLE change_log (
  seq              BIGINT  PRIMARY KEY,
  at               TEXT    NOT NULL,
  actor            TEXT    NOT NULL,
  action           TEXT    NOT NULL,
  model            TEXT    NOT NULL,
  version          INTEGER,
  stage            TEXT,
  previous_version INTEGER,
  reason           TEXT,
  details          TEXT
);
CREATE INDEX change_log_model ON change_log (model, seq);
