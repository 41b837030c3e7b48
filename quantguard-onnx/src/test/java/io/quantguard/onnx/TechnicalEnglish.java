package io.quantguard.onnx;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A corpus of technical English unlike Europarl's parliamentary debates: the licences, notices,
 * READMEs and package documentation inside the jars of the local Maven repository, HTML tags
 * removed, split into paragraphs of at least eight words, duplicates dropped, in a stable order.
 * Built where a measurement runs and kept out of git (the texts carry their projects' licences);
 * the drift measurements of evaluate and serve share it.
 */
public final class TechnicalEnglish {
  private TechnicalEnglish() {}

  /** The data spec that feeds a written corpus to all-MiniLM-L6-v2, 128 tokens at most. */
  public static String miniLmData(Path corpus) {
    return "text:" + corpus + "?tokenizer=minilm-tokenizer&max_length=128";
  }

  /** Writes up to {@code lines} paragraphs, one per line, to {@code out} and returns it. */
  public static Path write(Path out, int lines) {
    Path repo =
        Path.of(
            System.getProperty(
                "maven.repo.local", System.getProperty("user.home") + "/.m2/repository"));
    Set<String> kept = new LinkedHashSet<>();
    try (Stream<Path> jars = Files.walk(repo)) {
      for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) {
        if (kept.size() >= lines) {
          break;
        }
        read(jar, kept, lines);
      }
      Files.createDirectories(out.getParent());
      Files.write(out, new ArrayList<>(kept), StandardCharsets.UTF_8);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void read(Path jar, Set<String> kept, int lines) {
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      List<? extends ZipEntry> entries =
          zip.stream()
              .filter(e -> wanted(e.getName()))
              .sorted((a, b) -> a.getName().compareTo(b.getName()))
              .toList();
      for (ZipEntry e : entries) {
        String text = new String(zip.getInputStream(e).readAllBytes(), StandardCharsets.UTF_8);
        if (e.getName().endsWith(".html")) {
          text = text.replaceAll("(?s)<[^>]*>", " ").replaceAll("&[a-z]+;", " ");
        }
        for (String paragraph : text.split("\\n\\s*\\n")) {
          String line = paragraph.replaceAll("\\s+", " ").strip();
          if (line.split(" ").length >= 8 && kept.size() < lines) {
            kept.add(line);
          }
        }
      }
    } catch (IOException e) {
      // not a readable jar: skip it
    }
  }

  private static boolean wanted(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    String file = n.substring(n.lastIndexOf('/') + 1);
    return file.equals("package.html")
        || file.startsWith("readme")
        || (n.startsWith("meta-inf/") && (file.startsWith("license") || file.startsWith("notice")));
  }
}
