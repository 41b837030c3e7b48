package io.quantguard.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.QuantizationProvenance;
import io.quantguard.onnx.RunEnvironment;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Rows of {@code model} and {@code artifact_version}, read and written as {@link ArtifactVersion}.
 */
final class VersionTable {
  private static final String COLUMNS =
      "model, version, stage, blob_sha256, size_bytes, file_name, parent_model, parent_version,"
          + " recipe_json, recipe_sha256, quantization_mode, calibration_fingerprint,"
          + " calibration_samples, tool_version, onnx_runtime, java_version, os, cpu,"
          + " report_sha256, registered_at, registered_by, note, provenance";

  /** The provenance column's JSON: the record as it is (Jackson reads and writes records). */
  private static final ObjectMapper JSON = new ObjectMapper();

  private VersionTable() {}

  /** Versions matching {@code where} (SQL after WHERE, may end with ORDER BY / LIMIT). */
  static List<ArtifactVersion> select(Connection c, String where, Object... args)
      throws SQLException {
    List<ArtifactVersion> out = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement("SELECT " + COLUMNS + " FROM artifact_version WHERE " + where)) {
      Sql.bind(ps, args);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(read(rs));
        }
      }
    }
    return out;
  }

  /** Adds the model's row unless it exists. */
  static void ensureModel(Connection c, String name, Instant at, String actor) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO model (name, created_at, created_by) VALUES (?, ?, ?)"
                + " ON CONFLICT (name) DO NOTHING")) {
      ps.setString(1, name);
      ps.setString(2, at.toString());
      ps.setString(3, actor);
      ps.executeUpdate();
    }
  }

  static boolean modelExists(Connection c, String name) throws SQLException {
    return Sql.queryRow(c, "SELECT name FROM model WHERE name = ?", rs -> rs.getString(1), name)
        .isPresent();
  }

  static int nextVersion(Connection c, String model) throws SQLException {
    return Sql.queryInt(
            c, "SELECT COALESCE(MAX(version), 0) + 1 FROM artifact_version WHERE model = ?", model)
        .orElse(1);
  }

  /** The version of {@code model} that holds {@code stage}, if any. */
  static Optional<Integer> holder(Connection c, String model, Stage stage) throws SQLException {
    return Sql.queryInt(
        c,
        "SELECT MAX(version) FROM artifact_version WHERE model = ? AND stage = ?",
        model,
        stage.id());
  }

  static void setStage(Connection c, String model, int version, Stage stage) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE artifact_version SET stage = ? WHERE model = ? AND version = ?")) {
      ps.setString(1, stage.id());
      ps.setString(2, model);
      ps.setInt(3, version);
      ps.executeUpdate();
    }
  }

  static void insert(Connection c, ArtifactVersion v) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO artifact_version ("
                + COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      int i = 1;
      ps.setString(i++, v.model());
      ps.setInt(i++, v.version());
      ps.setString(i++, v.stage().id());
      ps.setString(i++, v.sha256());
      ps.setLong(i++, v.sizeBytes());
      ps.setString(i++, v.fileName());
      ps.setString(i++, v.parent() != null ? v.parent().model() : null);
      Sql.setInt(ps, i++, v.parent() != null ? v.parent().version() : null);
      ps.setString(i++, v.recipeJson());
      ps.setString(i++, v.recipeSha256());
      ps.setString(i++, v.mode());
      ps.setString(i++, v.calibrationFingerprint());
      Sql.setLong(ps, i++, v.calibrationSamples());
      ps.setString(i++, v.toolVersion());
      RunEnvironment env = v.environment();
      ps.setString(i++, env != null && env.onnxRuntime() != null ? env.onnxRuntime() : "");
      ps.setString(i++, env != null ? env.java() : "");
      ps.setString(i++, env != null ? env.os() : "");
      ps.setString(i++, env != null && env.cpuModel() != null ? env.cpuModel() : "");
      ps.setString(i++, v.reportSha256());
      ps.setString(i++, v.registeredAt().toString());
      ps.setString(i++, v.registeredBy());
      ps.setString(i++, v.note());
      ps.setString(i++, v.provenance() != null ? json(v.provenance()) : null);
      ps.executeUpdate();
    }
  }

  /**
   * The provenance of a row: the JSON column, or for a row registered before it existed, what its
   * recipe columns recorded (where it was quantized is unknown then: those rows kept the
   * registering process's environment, which says nothing about the quantization).
   */
  private static @Nullable QuantizationProvenance provenance(ResultSet rs) throws SQLException {
    String json = rs.getString("provenance");
    if (json != null) {
      try {
        return JSON.readValue(json, QuantizationProvenance.class);
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(
            "artifact_version.provenance of "
                + rs.getString("model")
                + "@"
                + rs.getInt("version")
                + " is not readable: "
                + e.getOriginalMessage(),
            e);
      }
    }
    String recipe = rs.getString("recipe_json");
    if (recipe == null) {
      return null;
    }
    return new QuantizationProvenance(
        rs.getString("tool_version"),
        recipe,
        rs.getString("recipe_sha256"),
        rs.getString("quantization_mode"),
        blankToNull(rs.getString("calibration_fingerprint")),
        null,
        Sql.longOrNull(rs, "calibration_samples"),
        null,
        null,
        null);
  }

  private static @Nullable String blankToNull(@Nullable String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  private static String json(QuantizationProvenance p) {
    try {
      return JSON.writeValueAsString(p);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the provenance as JSON", e);
    }
  }

  private static ArtifactVersion read(ResultSet rs) throws SQLException {
    String parentModel = rs.getString("parent_model");
    return new ArtifactVersion(
        rs.getString("model"),
        rs.getInt("version"),
        Stage.parse(rs.getString("stage"), "artifact_version.stage"),
        rs.getString("blob_sha256"),
        rs.getLong("size_bytes"),
        rs.getString("file_name"),
        parentModel != null ? ArtifactRef.of(parentModel, rs.getInt("parent_version")) : null,
        provenance(rs),
        rs.getString("report_sha256"),
        Instant.parse(rs.getString("registered_at")),
        rs.getString("registered_by"),
        rs.getString("note"));
  }
}
