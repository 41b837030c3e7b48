package io.quantguard.serve;

import io.quantguard.runtime.ResourceLocator;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * The English debates of Lucene's Europarl sample. That corpus is multilingual: about 7 % of its
 * 17,597 lines are English, the rest Spanish, German, French, Italian and others. An English
 * sentence-embedding model is on foreign ground on most of it, so a stream from all of Europarl to
 * technical English moves the quantized MiniLM closer to its training text, not away from it. The
 * filter is the cheapest language test there is: a body with at least {@value #ARTICLES} separate
 * words "the" (no other Europarl language has the word).
 */
final class EnglishEuroparl {
  private static final int ARTICLES = 4;
  private static final Pattern THE = Pattern.compile("\\bthe\\b");

  private EnglishEuroparl() {}

  /** The data spec that feeds a written corpus to all-MiniLM-L6-v2, 128 tokens at most. */
  static String miniLmData(Path corpus) {
    return "text:" + corpus + "?tokenizer=minilm-tokenizer&max_length=128";
  }

  /** Writes the text of every English line, in the corpus' order, to {@code out}. */
  static Path write(Path out) {
    List<String> kept = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(
                new GZIPInputStream(Files.newInputStream(ResourceLocator.resolve("europarl"))),
                StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        String[] cols = line.split("\t", 3);
        if (cols.length == 3 && english(cols[2])) {
          kept.add(cols[2].replaceAll("\\s+", " ").strip());
        }
      }
      Files.createDirectories(out.toAbsolutePath().getParent());
      Files.write(out, kept, StandardCharsets.UTF_8);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static boolean english(String text) {
    Matcher m = THE.matcher(text);
    int n = 0;
    while (n < ARTICLES && m.find()) {
      n++;
    }
    return n == ARTICLES;
  }
}
