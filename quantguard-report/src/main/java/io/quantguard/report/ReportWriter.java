package io.quantguard.report;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.quantguard.onnx.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes an {@link EvaluationReport} as {@code report.json} (for machines; schema in {@code
 * REPORT.md}), {@code report.md} (for pull requests) and {@code report.html} (for people). Each
 * file is written to a temporary file and renamed, so a failure never leaves half a report.
 */
public final class ReportWriter {
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .registerModule(
              new SimpleModule()
                  .addSerializer(Double.class, new FiniteDouble())
                  .addSerializer(double.class, new FiniteDouble()));

  private ReportWriter() {}

  /** NaN and infinities are not JSON: they become null. */
  private static final class FiniteDouble extends JsonSerializer<Double> {
    @Override
    public void serialize(Double v, JsonGenerator g, SerializerProvider p) throws IOException {
      if (v == null || !Double.isFinite(v)) {
        g.writeNull();
      } else {
        g.writeNumber(v);
      }
    }
  }

  public static String json(EvaluationReport report) {
    try {
      return JSON.writeValueAsString(report);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize the report", e);
    }
  }

  public static String markdown(EvaluationReport report) {
    return MarkdownReport.render(report);
  }

  /** The verdicts and headline table, for a terminal. */
  public static String summary(EvaluationReport report) {
    return MarkdownReport.summary(report);
  }

  public static String html(EvaluationReport report) {
    return HtmlReport.render(report, json(report));
  }

  /** Writes the three reports into {@code dir} (created if needed) and returns their paths. */
  public static List<Path> write(EvaluationReport report, Path dir) {
    try {
      Files.createDirectories(dir);
      String json = json(report);
      return List.of(
          AtomicFile.write(dir.resolve("report.json"), json),
          AtomicFile.write(dir.resolve("report.md"), MarkdownReport.render(report)),
          AtomicFile.write(dir.resolve("report.html"), HtmlReport.render(report, json)));
    } catch (IOException e) {
      throw new InvalidInputException(
          dir.toString(), "cannot write the reports: " + e.getMessage(), "check the directory", e);
    }
  }
}
