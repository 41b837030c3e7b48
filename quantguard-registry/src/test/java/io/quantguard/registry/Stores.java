package io.quantguard.registry;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * Where the tests keep registries: a fresh SQLite directory per test, and, when {@code
 * QG_TEST_POSTGRES_URL} is set, a fresh PostgreSQL schema per test (a random name, so runs never
 * collide), dropped afterwards.
 */
final class Stores {
  static final String POSTGRES_ENV = "QG_TEST_POSTGRES_URL";

  private Stores() {}

  static String postgresUrl() {
    return System.getenv(POSTGRES_ENV);
  }

  static String newSchemaName() {
    return "qg_test_"
        + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toLowerCase(Locale.ROOT);
  }

  /** The registry location of a schema in the test database. */
  static String postgres(String schema) {
    String base = postgresUrl();
    return base + (base.contains("?") ? "&" : "?") + "currentSchema=" + schema;
  }

  static String newSqlite(Path tmp) {
    return tmp.resolve("registry").toString();
  }

  static void dropSchema(String schema) throws SQLException {
    try (Connection c = DriverManager.getConnection(postgresUrl());
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }
}
