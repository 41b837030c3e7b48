package io.quantguard.runtime;

import io.quantguard.onnx.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Turns what a user types for a model, tokenizer or corpus into a file. Besides plain paths it
 * reads entries of Maven artifacts already in the local repository ({@code
 * maven:group:artifact:version!/path/in/jar}) and class path resources ({@code classpath:path}), so
 * real models published on Maven Central can be used with no network at run time. Entries are
 * extracted once into a cache directory ({@code $QUANTGUARD_CACHE}, default {@code
 * ~/.cache/quantguard}).
 */
public final class ResourceLocator {
  private ResourceLocator() {}

  private static final Properties KNOWN = loadKnown();

  private static Properties loadKnown() {
    Properties p = new Properties();
    try (InputStream in = ResourceLocator.class.getResourceAsStream("known-resources.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p;
  }

  /**
   * Resolves {@code ref} to an existing file: a known short name, a {@code maven:} or {@code
   * classpath:} reference, or a path.
   */
  public static Path resolve(String ref) {
    if (KNOWN.containsKey(ref) && !Files.exists(Path.of(ref))) {
      return resolve(KNOWN.getProperty(ref));
    }
    if (ref.startsWith("maven:")) {
      return maven(ref);
    }
    if (ref.startsWith("classpath:")) {
      return classpath(ref);
    }
    Path p = Path.of(ref.startsWith("file:") ? ref.substring(5) : ref);
    if (!Files.exists(p)) {
      throw new InvalidInputException(
          ref,
          "file not found",
          "check the path (relative paths start at " + Path.of("").toAbsolutePath() + ")");
    }
    return p;
  }

  /** The local Maven repository: -Dmaven.repo.local, $QUANTGUARD_MAVEN_REPO or ~/.m2/repository. */
  public static Path mavenRepository() {
    String prop = System.getProperty("maven.repo.local");
    if (prop != null && !prop.isBlank()) {
      return Path.of(prop);
    }
    String env = System.getenv("QUANTGUARD_MAVEN_REPO");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    return Path.of(System.getProperty("user.home"), ".m2", "repository");
  }

  static Path cacheDir() {
    String env = System.getenv("QUANTGUARD_CACHE");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    return Path.of(System.getProperty("user.home"), ".cache", "quantguard");
  }

  private static Path maven(String ref) {
    int bang = ref.indexOf('!');
    if (bang < 0) {
      throw new InvalidInputException(
          ref,
          "names no entry inside the artifact",
          "write maven:group:artifact:version!/path/in/jar");
    }
    String[] gav = ref.substring("maven:".length(), bang).split(":");
    String entry = ref.substring(bang + 1).replaceFirst("^/", "");
    if (gav.length < 3 || gav.length > 4) {
      throw new InvalidInputException(
          ref,
          "is not group:artifact:version[:classifier]",
          "write maven:group:artifact:version!/path/in/jar");
    }
    String file = gav[1] + "-" + gav[2] + (gav.length == 4 ? "-" + gav[3] : "") + ".jar";
    Path jar =
        mavenRepository()
            .resolve(gav[0].replace('.', '/'))
            .resolve(gav[1])
            .resolve(gav[2])
            .resolve(file);
    if (!Files.isRegularFile(jar)) {
      throw new InvalidInputException(
          ref,
          "artifact not in the local Maven repository (" + jar + ")",
          "fetch it once with: mvn dependency:get -Dartifact=" + String.join(":", gav));
    }
    Path target = cacheDir().resolve("maven").resolve(String.join("_", gav)).resolve(entry);
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      ZipEntry e = zip.getEntry(entry);
      if (e == null) {
        throw new InvalidInputException(
            ref, "the artifact has no entry '" + entry + "'", "list it with: unzip -l " + jar);
      }
      if (Files.isRegularFile(target) && Files.size(target) == e.getSize()) {
        return target;
      }
      try (InputStream in = zip.getInputStream(e)) {
        return store(in, target);
      }
    } catch (IOException e) {
      throw new InvalidInputException(
          ref, "cannot read " + jar + ": " + e.getMessage(), "check the local Maven repository", e);
    }
  }

  private static Path classpath(String ref) {
    String entry = ref.substring("classpath:".length()).replaceFirst("^/", "");
    Path target = cacheDir().resolve("classpath").resolve(entry);
    try (InputStream in = ResourceLocator.class.getClassLoader().getResourceAsStream(entry)) {
      if (in == null) {
        throw new InvalidInputException(
            ref, "no such class path resource", "check the name and the class path");
      }
      if (Files.isRegularFile(target)) {
        return target;
      }
      return store(in, target);
    } catch (IOException e) {
      throw new InvalidInputException(
          ref, "cannot extract it: " + e.getMessage(), "check " + cacheDir(), e);
    }
  }

  private static Path store(InputStream in, Path target) throws IOException {
    Files.createDirectories(target.getParent());
    Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".part");
    try {
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
    return target;
  }
}
