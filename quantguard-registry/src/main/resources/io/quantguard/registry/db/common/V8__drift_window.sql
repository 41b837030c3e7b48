-- Closed drift windows (issue #13): a serving process keeps the latest windows of a model it
-- watches for drift (each a JSON document: when it was open, the drift per feature, the overflow
-- per tensor, the paired quality), so that a restarted server resumes its history and attribution
-- instead of starting blind. A bounded cache, not an audit trail: old windows are deleted.
CREATE TABLE drift_window (
  model TEXT   NOT NULL REFERENCES model (name),
  seq   BIGINT NOT NULL,
  body  TEXT   NOT NULL,
  PRIMARY KEY (model, seq)
);
