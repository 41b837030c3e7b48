package io.quantguard.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.InvalidInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads {@code report.json} back into an {@link EvaluationReport}, so a gate in CI needs the file
 * and nothing else (no models, no data). Fields added later within the schema version are ignored,
 * as {@code REPORT.md} promises; another schema is refused.
 */
public final class ReportReader {
  private static final ObjectMapper JSON =
      new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private ReportReader() {}

  /** Reads a {@code report.json}, or the one inside a report directory. */
  public static EvaluationReport read(Path file) {
    Path f = Files.isDirectory(file) ? file.resolve("report.json") : file;
    String text;
    try {
      text = Files.readString(f, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new InvalidInputException(
          f.toString(),
          "cannot be read: " + e.getMessage(),
          "give the report.json an evaluation wrote",
          e);
    }
    return parse(text, f.toString());
  }

  /** Parses the JSON of a report; {@code source} names it in errors. */
  public static EvaluationReport parse(String json, String source) {
    try {
      JsonNode tree = JSON.readTree(json);
      if (tree == null || !tree.isObject()) {
        throw notAReport(source, "is not a JSON object");
      }
      String schema = tree.path("schema").asText("");
      if (!schema.equals(EvaluationReport.SCHEMA)) {
        throw notAReport(
            source,
            schema.isEmpty()
                ? "has no \"schema\" field"
                : "has schema '" + schema + "', not " + EvaluationReport.SCHEMA);
      }
      EvaluationReport r = JSON.treeToValue(tree, EvaluationReport.class);
      if (r.models().isEmpty() || r.models().stream().anyMatch(m -> m.slices().isEmpty())) {
        throw notAReport(source, "has no models or a model without slices");
      }
      return r;
    } catch (JsonProcessingException e) {
      throw new InvalidInputException(
          source,
          "is not a readable report: " + e.getOriginalMessage(),
          "give the report.json an evaluation wrote",
          e);
    }
  }

  private static InvalidInputException notAReport(String source, String problem) {
    return new InvalidInputException(
        source,
        problem,
        "give the report.json an evaluation wrote (schema " + EvaluationReport.SCHEMA + ")");
  }
}
