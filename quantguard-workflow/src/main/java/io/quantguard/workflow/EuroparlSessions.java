package io.quantguard.workflow;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.report.AtomicFile;
import io.quantguard.runtime.ResourceLocator;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * A retrieval task where FP32 is strong, made from the Europarl sample that ships with Lucene's
 * test framework ({@code title<TAB>date<TAB>body}, several languages): for each English session,
 * its first complete sentence is the query and the session from that sentence on is the one
 * relevant document (which session does this sentence open?). The rest of the session alone is too
 * loosely tied to its first sentence: all-MiniLM-L6-v2 in FP32 finds it in the top 10 of 500 only
 * 44 % of the time, so a quantized model's losses would drown in the task's own ambiguity. Sessions
 * whose text is not English (all-MiniLM-L6-v2 is an English model), whose first sentence is under
 * {@value #MIN_QUERY} or over {@value #MAX_QUERY} characters, whose rest is under {@value
 * #MIN_DOCUMENT} characters, or whose first sentence already occurred (ignoring case and
 * punctuation, as the uncased tokenizer does), are left out, so no two queries are the same.
 *
 * <p>The result is a tab-separated file, query in column 1 and document in column 2, in the
 * corpus's order (so {@code offset} and {@code limit} pick the same pairs every time).
 */
final class EuroparlSessions {
  static final int MIN_QUERY = 40;
  static final int MAX_QUERY = 300;
  static final int MIN_DOCUMENT = 200;

  /** Common English function words; a share of at least {@value #MIN_ENGLISH} marks English. */
  private static final Set<String> ENGLISH =
      Set.of(
          "the", "of", "and", "to", "in", "is", "that", "for", "this", "it", "we", "on", "be",
          "are", "with", "as", "not", "have", "by");

  private static final double MIN_ENGLISH = 0.2;
  private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?])\\s+");
  private static final Pattern WORD = Pattern.compile("[\\p{L}']+");
  private static final Pattern NOT_WORD = Pattern.compile("[^\\p{L}\\p{N}]+");

  private EuroparlSessions() {}

  /** Writes the pairs of the corpus {@code europarl} (a known name or a file) to {@code target}. */
  static int write(String europarl, Path target) {
    Path corpus = ResourceLocator.resolve(europarl);
    StringBuilder out = new StringBuilder();
    Set<String> seen = new HashSet<>();
    int pairs = 0;
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(
                new GZIPInputStream(Files.newInputStream(corpus)), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        String[] cols = line.split("\t", 3);
        if (cols.length < 3) {
          continue;
        }
        String body = cols[2].replaceAll("\\s+", " ").strip();
        List<String> sentences = List.of(SENTENCE_END.split(body));
        // A body often starts inside a sentence: its first complete one then comes second.
        int first = !sentences.isEmpty() && startsUpper(sentences.get(0)) ? 0 : 1;
        if (first >= sentences.size()) {
          continue;
        }
        String query = sentences.get(first);
        String rest = String.join(" ", sentences.subList(first + 1, sentences.size()));
        String document = query + " " + rest;
        if (query.length() < MIN_QUERY
            || query.length() > MAX_QUERY
            || rest.length() < MIN_DOCUMENT
            || !english(query + " " + rest.substring(0, Math.min(400, rest.length())))
            || !seen.add(normalized(query))) {
          continue;
        }
        out.append(query).append('\t').append(document).append('\n');
        pairs++;
      }
    } catch (IOException e) {
      throw new InvalidInputException(
          corpus.toString(), "cannot be read as gzip text: " + e.getMessage(), "check the file", e);
    }
    AtomicFile.write(target, out.toString());
    return pairs;
  }

  /** What the model sees of a query (its tokenizer is uncased): two that read the same are one. */
  private static String normalized(String query) {
    return NOT_WORD.matcher(query.toLowerCase(Locale.ROOT)).replaceAll("");
  }

  private static boolean startsUpper(String s) {
    return !s.isEmpty() && Character.isUpperCase(s.codePointAt(0));
  }

  private static boolean english(String text) {
    var m = WORD.matcher(text.toLowerCase(Locale.ROOT));
    int words = 0;
    int common = 0;
    while (m.find()) {
      words++;
      if (ENGLISH.contains(m.group())) {
        common++;
      }
    }
    return words > 0 && common >= MIN_ENGLISH * words;
  }
}
