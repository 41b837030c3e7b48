-- Rollouts (issue #13): a candidate version served beside the production version (canary share or
-- shadow) and judged each analysis interval by a policy. The row is where the rollout stands, so a
-- restarted server resumes it at its step; every change of it is also a change-log entry
-- (change_seq is the latest), which keeps the why and the measurements.
CREATE TABLE rollout (
  id               BIGINT  PRIMARY KEY,
  model            TEXT    NOT NULL REFERENCES model (name),
  candidate        INTEGER NOT NULL,
  baseline         INTEGER NOT NULL,
  mode             TEXT    NOT NULL CHECK (mode IN ('canary', 'shadow')),
  state            TEXT    NOT NULL CHECK (state IN ('running', 'paused', 'promoted', 'rolled_back')),
  step             INTEGER NOT NULL,
  failed_intervals INTEGER NOT NULL,
  settings         TEXT    NOT NULL,
  policy_sha256    TEXT    NOT NULL REFERENCES policy (sha256),
  change_seq       BIGINT  NOT NULL REFERENCES change_log (seq),
  FOREIGN KEY (model, candidate) REFERENCES artifact_version (model, version),
  FOREIGN KEY (model, baseline) REFERENCES artifact_version (model, version)
);
-- At most one rollout of a model is under way (running or paused).
CREATE UNIQUE INDEX rollout_active ON rollout (model) WHERE state IN ('running', 'paused');
