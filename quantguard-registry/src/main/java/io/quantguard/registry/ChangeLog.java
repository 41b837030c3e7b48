package io.quantguard.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** The {@code change_log} table: appended to inside a change's transaction, never edited. */
final class ChangeLog {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ChangeLog() {}

  /** Appends {@code e} (its {@code seq} is the transaction's number). */
  static ChangeLogEntry append(Connection c, ChangeLogEntry e) throws SQLException {
    String details;
    try {
      details = JSON.writeValueAsString(e.details());
    } catch (JsonProcessingException ex) {
      throw new IllegalStateException(ex);
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO change_log (seq, at, actor, action, model, version, stage,"
                + " previous_version, reason, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      ps.setLong(1, e.seq());
      ps.setString(2, e.at().toString());
      ps.setString(3, e.actor());
      ps.setString(4, e.action().id());
      ps.setString(5, e.model());
      Sql.setInt(ps, 6, e.version());
      ps.setString(7, e.stage() != null ? e.stage().id() : null);
      Sql.setInt(ps, 8, e.previousVersion());
      ps.setString(9, e.reason());
      ps.setString(10, details);
      ps.executeUpdate();
    }
    return e;
  }

  /** The last {@code limit} entries, of one model or (null) of all, oldest first. */
  static List<ChangeLogEntry> last(Connection c, @Nullable String model, int limit)
      throws SQLException {
    return last(c, model, null, limit);
  }

  /**
   * The last {@code limit} entries, of one model or (null) of all, of one action or (null) of all,
   * oldest first.
   */
  static List<ChangeLogEntry> last(
      Connection c, @Nullable String model, @Nullable Action action, int limit)
      throws SQLException {
    List<ChangeLogEntry> out = new ArrayList<>();
    List<String> where = new ArrayList<>();
    List<Object> args = new ArrayList<>();
    if (model != null) {
      where.add("model = ?");
      args.add(model);
    }
    if (action != null) {
      where.add("action = ?");
      args.add(action.id());
    }
    args.add(Math.max(1, limit));
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT seq, at, actor, action, model, version, stage, previous_version, reason,"
                + " details FROM change_log"
                + (where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where))
                + " ORDER BY seq DESC LIMIT ?")) {
      Sql.bind(ps, args.toArray());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(read(rs));
        }
      }
    }
    out.sort(Comparator.comparingLong(ChangeLogEntry::seq));
    return out;
  }

  /** The version production had before {@code current} took it, from the last such entry. */
  static java.util.Optional<Integer> productionBefore(Connection c, String model, int current)
      throws SQLException {
    return Sql.queryInt(
        c,
        "SELECT previous_version FROM change_log WHERE model = ? AND version = ?"
            + " AND stage = 'production' AND action IN ('promote', 'rollback')"
            + " ORDER BY seq DESC LIMIT 1",
        model,
        current);
  }

  private static ChangeLogEntry read(ResultSet rs) throws SQLException {
    String stage = rs.getString(7);
    String text = rs.getString(10);
    Map<String, Object> details;
    try {
      details = text != null ? JSON.readValue(text, new TypeReference<>() {}) : Map.of();
    } catch (JsonProcessingException e) {
      details = Map.of("unreadable", text);
    }
    return new ChangeLogEntry(
        rs.getLong(1),
        Instant.parse(rs.getString(2)),
        rs.getString(3),
        Action.parse(rs.getString(4)),
        rs.getString(5),
        Sql.intOrNull(rs, 6),
        stage != null ? Stage.parse(stage, "change_log.stage") : null,
        Sql.intOrNull(rs, 8),
        rs.getString(9),
        details);
  }
}
