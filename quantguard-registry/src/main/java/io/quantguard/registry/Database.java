package io.quantguard.registry;

import io.quantguard.onnx.InvalidInputException;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Optional;
import java.util.Properties;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;

/**
 * The registry's database: an embedded SQLite file or a PostgreSQL server, with the same tables
 * (Flyway migrations under {@code io/quantguard/registry/db/}: {@code common} for both, plus a
 * vendor folder for the append-only triggers). Connections are opened per operation; writers are
 * serialized by the database ({@code BEGIN IMMEDIATE} on SQLite, a row lock on PostgreSQL).
 */
sealed interface Database {

  /** Opens a connection; autocommit is on. */
  Connection connect();

  /** {@code sqlite} or {@code postgresql}: the vendor folder of the migrations. */
  String vendor();

  /** Where the database is, for messages (no credentials). */
  String describe();

  /** Brings the schema up to date. */
  void migrate();

  /**
   * A directory (SQLite file {@code registry.db} inside it), {@code jdbc:sqlite:FILE} or {@code
   * jdbc:postgresql://...}.
   */
  static Database parse(String location) {
    if (location.startsWith("jdbc:postgresql:")) {
      return new Postgres(location);
    }
    if (location.startsWith("jdbc:sqlite:")) {
      String file = location.substring("jdbc:sqlite:".length());
      int q = file.indexOf('?');
      return new Sqlite(Path.of(q >= 0 ? file.substring(0, q) : file));
    }
    if (location.startsWith("jdbc:")) {
      throw new InvalidInputException(
          location,
          "is a database QuantGuard's registry does not support",
          "use a directory (SQLite), jdbc:sqlite:FILE or jdbc:postgresql://HOST/DB");
    }
    Path dir = Path.of(location);
    if (Files.isRegularFile(dir)) {
      throw new InvalidInputException(
          location,
          "is a file, not a registry directory",
          "give a directory (created if missing), jdbc:sqlite:FILE or jdbc:postgresql://...");
    }
    return new Sqlite(dir.resolve("registry.db"));
  }

  private static void runFlyway(String url, String vendor, Optional<String> schema) {
    var config =
        Flyway.configure(Database.class.getClassLoader())
            .dataSource(url, null, null)
            .locations(
                "classpath:io/quantguard/registry/db/common",
                "classpath:io/quantguard/registry/db/" + vendor)
            .table("registry_schema_history");
    schema.ifPresent(config::schemas);
    config.load().migrate();
  }

  /** Embedded SQLite: WAL journal (readers never wait), writers wait up to a minute. */
  record Sqlite(Path file) implements Database {
    public Sqlite {
      file = file.toAbsolutePath().normalize();
    }

    String url() {
      return "jdbc:sqlite:"
          + file
          + "?journal_mode=WAL&busy_timeout=60000&foreign_keys=true&transaction_mode=IMMEDIATE";
    }

    @Override
    public Connection connect() {
      try {
        return DriverManager.getConnection(url(), new Properties());
      } catch (SQLException e) {
        throw new InvalidInputException(
            file.toString(),
            "cannot open the registry database: " + e.getMessage(),
            "check the path and permissions of the registry database",
            e);
      }
    }

    @Override
    public String vendor() {
      return "sqlite";
    }

    @Override
    public String describe() {
      return file.toString();
    }

    @Override
    public void migrate() {
      Path lockFile = file.resolveSibling(file.getFileName() + ".migrate.lock");
      try {
        Files.createDirectories(file.getParent());
        // Two first commands at once would both create the schema history; take turns.
        try (FileChannel ch =
            FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
          FileLock lock = ch.lock();
          try {
            runFlyway(url(), vendor(), Optional.empty());
          } finally {
            lock.release();
          }
        }
      } catch (IOException e) {
        throw new InvalidInputException(
            file.toString(),
            "cannot create the registry: " + e.getMessage(),
            "check the path and permissions of the registry database",
            e);
      } catch (FlywayException e) {
        throw new IllegalStateException("cannot migrate the registry " + file + ": " + e, e);
      }
    }
  }

  /** PostgreSQL; {@code currentSchema=NAME} in the URL keeps the registry in its own schema. */
  record Postgres(String url) implements Database {
    @Override
    public Connection connect() {
      try {
        return DriverManager.getConnection(url, new Properties());
      } catch (SQLException e) {
        throw new InvalidInputException(
            describe(),
            "cannot connect to the registry database: " + e.getMessage(),
            "check that PostgreSQL runs and the URL, user and database are right",
            e);
      }
    }

    @Override
    public String vendor() {
      return "postgresql";
    }

    @Override
    public String describe() {
      return url.replaceAll("(?i)(password=)[^&]*", "$1***");
    }

    @Override
    public void migrate() {
      try {
        runFlyway(url, vendor(), parameter("currentSchema"));
      } catch (FlywayException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("Unable to obtain connection") || m.contains("Connection")) {
          throw new InvalidInputException(
              describe(),
              "cannot connect to the registry database: " + m.lines().findFirst().orElse(m),
              "check that PostgreSQL runs and the URL, user and database are right",
              e);
        }
        throw new IllegalStateException("cannot migrate the registry " + describe() + ": " + e, e);
      }
    }

    Optional<String> parameter(String name) {
      int q = url.indexOf('?');
      if (q < 0) {
        return Optional.empty();
      }
      for (String kv : url.substring(q + 1).split("&")) {
        int eq = kv.indexOf('=');
        if (eq > 0 && kv.substring(0, eq).equals(name)) {
          return Optional.of(URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
        }
      }
      return Optional.empty();
    }
  }
}
