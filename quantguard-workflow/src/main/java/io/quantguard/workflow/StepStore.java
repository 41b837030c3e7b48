package io.quantguard.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantguard.report.AtomicFile;
import io.quantguard.report.Sha256;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Where each step of a {@link Workflow} keeps its output, keyed by a content hash of its inputs: a
 * step whose key is unchanged since the last run is not run again, its recorded result is reused.
 * Each step has its own directory {@code steps/NAME/}; {@code step.json} (key, seconds, result) is
 * written last, so a step interrupted half-way has no record and runs again, from scratch but for
 * its {@link #CHECKPOINTS} subdirectory, kept when the rerun has the interrupted run's key.
 */
final class StepStore {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * The subdirectory where a step leaves what a rerun of it can continue from (training
   * checkpoints): kept when the step runs again with the same key after an interruption, deleted
   * with the rest when the key changed (it would be the state of other settings).
   */
  static final String CHECKPOINTS = "checkpoints";

  /** The key of the run of a step under way or interrupted, written before its body runs. */
  private static final String STARTED = "step.started";

  private final Path root;
  private final Map<String, String> fileHashes = new HashMap<>();

  StepStore(Path root) {
    this.root = root;
  }

  /** What a step produced, and whether it was reused from an earlier run. */
  record Outcome<T>(T result, boolean reused, double seconds, Path dir) {}

  Path dir(String step) {
    return root.resolve(step);
  }

  /**
   * The step's recorded result when its key is {@code key}; otherwise runs {@code body} in an
   * emptied step directory (but for the {@link #CHECKPOINTS} of an interrupted run with the same
   * key) and records what it returns.
   */
  <T> Outcome<T> run(String step, String key, Class<T> type, Function<Path, T> body) {
    Path dir = dir(step);
    Path record = dir.resolve("step.json");
    try {
      if (Files.isRegularFile(record)) {
        JsonNode r = JSON.readTree(record.toFile());
        if (key.equals(r.path("key").asText())) {
          return new Outcome<>(
              JSON.treeToValue(r.get("result"), type), true, r.path("seconds").asDouble(), dir);
        }
      }
      Path started = dir.resolve(STARTED);
      boolean resumable =
          Files.isRegularFile(started)
              && !Files.exists(record)
              && key.equals(Files.readString(started).strip());
      if (resumable) {
        try (var entries = Files.list(dir)) {
          for (Path p : entries.toList()) {
            if (!p.getFileName().toString().equals(CHECKPOINTS)) {
              deleteTree(p);
            }
          }
        }
      } else {
        deleteTree(dir);
      }
      Files.createDirectories(dir);
      AtomicFile.write(started, key + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot use the step directory " + dir, e);
    }
    long start = System.nanoTime();
    T result = body.apply(dir);
    double seconds = (System.nanoTime() - start) / 1e9;
    ObjectNode r = JSON.createObjectNode();
    r.put("step", step);
    r.put("key", key);
    r.put("seconds", seconds);
    r.set("result", JSON.valueToTree(result));
    try {
      AtomicFile.write(record, JSON.writeValueAsString(r));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Outcome<>(result, false, seconds, dir);
  }

  /**
   * The content hash of a step's inputs: every part as written, and for each part that names an
   * existing file, that file's SHA-256 (so an edited model or data file changes the key).
   */
  String key(List<String> parts) {
    StringBuilder b = new StringBuilder();
    for (String p : parts) {
      b.append(p).append('\n');
      for (Path file : Inputs.files(p)) {
        b.append("  ").append(hash(file)).append('\n');
      }
    }
    return Sha256.of(b.toString());
  }

  /** A file's SHA-256, computed once per run. */
  String hash(Path file) {
    return fileHashes.computeIfAbsent(file.toAbsolutePath().toString(), k -> Sha256.of(file));
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Reading which files a step input names. */
  static final class Inputs {
    private Inputs() {}

    /** The existing files a value names: itself as a path, or a data spec's file and options. */
    static List<Path> files(String value) {
      java.util.List<Path> out = new java.util.ArrayList<>();
      String rest = value.replaceFirst("^[a-z0-9]+:(?!//)", "").replaceFirst("^@", "");
      int q = rest.indexOf('?');
      addIfFile(q >= 0 ? rest.substring(0, q) : rest, out);
      if (q >= 0) {
        for (String opt : rest.substring(q + 1).split("&")) {
          int eq = opt.indexOf('=');
          if (eq > 0) {
            addIfFile(opt.substring(eq + 1), out);
          }
        }
      }
      return out;
    }

    private static void addIfFile(String s, List<Path> out) {
      if (s.isEmpty() || s.length() > 4096) {
        return;
      }
      try {
        Path p = Path.of(s);
        if (p.isAbsolute() && Files.isRegularFile(p)) {
          out.add(p);
        }
      } catch (RuntimeException e) {
        // not a path
      }
    }
  }
}
