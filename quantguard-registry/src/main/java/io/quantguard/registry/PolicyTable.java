package io.quantguard.registry;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Rows of {@code policy} (texts by hash, never edited) and {@code model_policy} (the text in force
 * per model and stage), read as {@link ModelPolicy} with who, when and why from the change-log
 * entry that set it.
 */
final class PolicyTable {
  private static final String SELECT =
      "SELECT p.model, p.stage, p.name, p.policy_sha256, t.text, p.source, p.change_seq, l.at,"
          + " l.actor, l.reason FROM model_policy p"
          + " JOIN policy t ON t.sha256 = p.policy_sha256"
          + " JOIN change_log l ON l.seq = p.change_seq";

  private PolicyTable() {}

  /** Every policy of {@code model}: the one for every stage first, then by stage. */
  static List<ModelPolicy> all(Connection c, String model) throws SQLException {
    List<ModelPolicy> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(SELECT + " WHERE p.model = ?")) {
      ps.setString(1, model);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(read(rs));
        }
      }
    }
    out.sort(Comparator.comparingInt(p -> p.stage() == null ? -1 : p.stage().ordinal()));
    return out;
  }

  /** The policy of {@code model} for exactly {@code stage} (null: every stage). */
  static Optional<ModelPolicy> get(Connection c, String model, @Nullable Stage stage)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(SELECT + " WHERE p.model = ? AND p.stage = ?")) {
      ps.setString(1, model);
      ps.setString(2, column(stage));
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(read(rs)) : Optional.empty();
      }
    }
  }

  /** Stores a text under its hash unless it is there already (texts are never replaced). */
  static void storeText(Connection c, String sha256, String text) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO policy (sha256, text) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING")) {
      ps.setString(1, sha256);
      ps.setString(2, text);
      ps.executeUpdate();
    }
  }

  /** The stored texts whose hash starts with {@code prefix} (at most two: enough to say which). */
  static List<String[]> textsByPrefix(Connection c, String prefix) throws SQLException {
    List<String[]> out = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT sha256, text FROM policy WHERE sha256 LIKE ? ORDER BY sha256 LIMIT 2")) {
      ps.setString(1, prefix + "%");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new String[] {rs.getString(1), rs.getString(2)});
        }
      }
    }
    return out;
  }

  /**
   * Makes {@code sha256} the policy of {@code model} for {@code stage}, set by change {@code seq}.
   */
  static void put(
      Connection c,
      String model,
      @Nullable Stage stage,
      String sha256,
      String name,
      @Nullable String source,
      long seq)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO model_policy (model, stage, policy_sha256, name, source, change_seq)"
                + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (model, stage) DO UPDATE SET"
                + " policy_sha256 = excluded.policy_sha256, name = excluded.name,"
                + " source = excluded.source, change_seq = excluded.change_seq")) {
      ps.setString(1, model);
      ps.setString(2, column(stage));
      ps.setString(3, sha256);
      ps.setString(4, name);
      ps.setString(5, source);
      ps.setLong(6, seq);
      ps.executeUpdate();
    }
  }

  private static String column(@Nullable Stage stage) {
    return stage == null ? ModelPolicy.ANY_STAGE : stage.id();
  }

  private static ModelPolicy read(ResultSet rs) throws SQLException {
    String stage = rs.getString(2);
    return new ModelPolicy(
        rs.getString(1),
        ModelPolicy.ANY_STAGE.equals(stage) ? null : Stage.parse(stage, "model_policy.stage"),
        rs.getString(3),
        rs.getString(4),
        rs.getString(5),
        rs.getString(6),
        rs.getLong(7),
        Instant.parse(rs.getString(8)),
        rs.getString(9),
        rs.getString(10));
  }
}
