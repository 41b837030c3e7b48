package io.quantguard.registry;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/** The {@code rollout} table: one row per rollout, updated as it moves. */
final class RolloutTable {
  private static final String SELECT =
      "SELECT r.id, r.model, r.candidate, r.baseline, r.mode, r.state, r.step, r.failed_intervals,"
          + " r.settings, r.policy_sha256, p.text, r.change_seq FROM rollout r"
          + " JOIN policy p ON p.sha256 = r.policy_sha256";

  private RolloutTable() {}

  static void insert(Connection c, RolloutRecord r) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO rollout (id, model, candidate, baseline, mode, state, step,"
                + " failed_intervals, settings, policy_sha256, change_seq)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      Sql.bind(
          ps,
          r.id(),
          r.model(),
          r.candidate(),
          r.baseline(),
          r.mode(),
          r.status().id(),
          r.step(),
          r.failedIntervals(),
          r.settings(),
          r.policySha256(),
          r.changeSeq());
      ps.executeUpdate();
    }
  }

  static void update(Connection c, RolloutRecord r) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE rollout SET state = ?, step = ?, failed_intervals = ?, change_seq = ?"
                + " WHERE id = ?")) {
      Sql.bind(ps, r.status().id(), r.step(), r.failedIntervals(), r.changeSeq(), r.id());
      ps.executeUpdate();
    }
  }

  static Optional<RolloutRecord> active(Connection c, String model) throws SQLException {
    return Sql.queryRow(
        c,
        SELECT + " WHERE r.model = ? AND r.state IN ('running', 'paused')",
        RolloutTable::read,
        model);
  }

  static Optional<RolloutRecord> byId(Connection c, long id) throws SQLException {
    return Sql.queryRow(c, SELECT + " WHERE r.id = ?", RolloutTable::read, id);
  }

  /** The latest rollout of a model, under way or over. */
  static Optional<RolloutRecord> latest(Connection c, String model) throws SQLException {
    return Sql.queryRow(
        c, SELECT + " WHERE r.model = ? ORDER BY r.id DESC LIMIT 1", RolloutTable::read, model);
  }

  private static RolloutRecord read(ResultSet rs) throws SQLException {
    return new RolloutRecord(
        rs.getLong(1),
        rs.getString(2),
        rs.getInt(3),
        rs.getInt(4),
        rs.getString(5),
        RolloutRecord.Status.parse(rs.getString(6)),
        rs.getInt(7),
        rs.getInt(8),
        rs.getString(9),
        rs.getString(10),
        rs.getString(11),
        rs.getLong(12));
  }
}
