package io.quantguard.registry;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/** The few JDBC idioms the registry repeats: one-row queries, binding, nullable numbers. */
final class Sql {
  private Sql() {}

  @FunctionalInterface
  interface Row<T> {
    T map(ResultSet rs) throws SQLException;
  }

  /** The first row mapped, or empty when there is none or its last column read was NULL. */
  static <T> Optional<T> queryRow(Connection c, String sql, Row<T> row, Object... args)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, args);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        T v = row.map(rs);
        return rs.wasNull() ? Optional.empty() : Optional.ofNullable(v);
      }
    }
  }

  static Optional<Integer> queryInt(Connection c, String sql, Object... args) throws SQLException {
    return queryRow(c, sql, rs -> rs.getInt(1), args);
  }

  /** Binds Integer, Long and String arguments (null binds as a NULL string). */
  static void bind(PreparedStatement ps, Object... args) throws SQLException {
    for (int i = 0; i < args.length; i++) {
      Object a = args[i];
      if (a instanceof Integer n) {
        ps.setInt(i + 1, n);
      } else if (a instanceof Long n) {
        ps.setLong(i + 1, n);
      } else {
        ps.setString(i + 1, (String) a);
      }
    }
  }

  static @Nullable Integer intOrNull(ResultSet rs, int column) throws SQLException {
    int v = rs.getInt(column);
    return rs.wasNull() ? null : v;
  }

  static @Nullable Long longOrNull(ResultSet rs, String column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? null : v;
  }

  static void setInt(PreparedStatement ps, int i, @Nullable Integer v) throws SQLException {
    if (v == null) {
      ps.setNull(i, Types.INTEGER);
    } else {
      ps.setInt(i, v);
    }
  }

  static void setLong(PreparedStatement ps, int i, @Nullable Long v) throws SQLException {
    if (v == null) {
      ps.setNull(i, Types.BIGINT);
    } else {
      ps.setLong(i, v);
    }
  }
}
