package io.quantguard.workflow;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.report.AtomicFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The project {@code quantguard run} carries out when given no file: all-MiniLM-L6-v2 retrieving
 * Europarl sessions from their first sentence ({@link EuroparlSessions}), on artifacts from Maven
 * Central only. Its {@code quantguard.yaml} and data are written into the output directory, so a
 * user can read, edit and rerun it like any project.
 */
public final class DefaultProject {
  /** The project file's text, as shipped. */
  public static final String RESOURCE = "default-quantguard.yaml";

  private DefaultProject() {}

  /** The shipped project file's text. */
  public static String text() {
    try (InputStream in = DefaultProject.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is missing from the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Writes the project file (unless one is there already: an edited file is kept) and its data into
   * {@code dir}, and reads it.
   */
  public static Project prepare(Path dir) {
    Path file = dir.resolve("quantguard.yaml");
    Path pairs = dir.resolve("europarl-sessions.tsv");
    int n = EuroparlSessions.write("europarl", pairs); // the same bytes every time
    if (n < 500) {
      throw new InvalidInputException(
          "europarl", "gave only " + n + " session pairs", "check the Lucene test framework jar");
    }
    if (!Files.exists(file)) {
      AtomicFile.write(file, text());
    }
    return Project.read(file);
  }
}
