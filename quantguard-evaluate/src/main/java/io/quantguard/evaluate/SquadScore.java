package io.quantguard.evaluate;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Exact match and token F1 of an extracted answer, exactly as the official SQuAD evaluation script
 * ({@code evaluate-v1.1.py}, Rajpurkar et al., "SQuAD: 100,000+ Questions for Machine Comprehension
 * of Text", EMNLP 2016) scores them. Both strings are normalized (lower case, ASCII punctuation
 * removed, the articles a/an/the removed, whitespace collapsed); EM is 1 when they are then equal;
 * F1 is the harmonic mean of precision and recall of the bag of normalized tokens. Against several
 * gold answers the best score counts. An empty answer scores 1 only against an empty gold answer
 * (the v2.0 script's rule; v1.1 never has empty answers).
 */
public final class SquadScore {
  private static final Pattern ARTICLES = Pattern.compile("\\b(a|an|the)\\b");
  private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

  private SquadScore() {}

  public static String normalize(String s) {
    String lower = s.toLowerCase(Locale.ROOT);
    StringBuilder b = new StringBuilder(lower.length());
    for (int i = 0; i < lower.length(); i++) {
      char c = lower.charAt(i);
      if (PUNCTUATION.indexOf(c) < 0) {
        b.append(c);
      }
    }
    String noArticles = ARTICLES.matcher(b).replaceAll(" ");
    return String.join(" ", tokens(noArticles));
  }

  private static List<String> tokens(String s) {
    String t = s.strip();
    return t.isEmpty() ? List.of() : Arrays.asList(t.split("\\s+"));
  }

  public static double exactMatch(String prediction, String gold) {
    return normalize(prediction).equals(normalize(gold)) ? 1 : 0;
  }

  public static double f1(String prediction, String gold) {
    List<String> p = tokens(normalize(prediction));
    List<String> g = tokens(normalize(gold));
    if (p.isEmpty() || g.isEmpty()) {
      return p.isEmpty() && g.isEmpty() ? 1 : 0;
    }
    Map<String, Integer> counts = new HashMap<>();
    g.forEach(t -> counts.merge(t, 1, Integer::sum));
    int same = 0;
    for (String t : p) {
      Integer c = counts.get(t);
      if (c != null && c > 0) {
        same++;
        counts.put(t, c - 1);
      }
    }
    if (same == 0) {
      return 0;
    }
    double precision = (double) same / p.size();
    double recall = (double) same / g.size();
    return 2 * precision * recall / (precision + recall);
  }

  /** The best exact match over several gold answers (0 when there are none). */
  public static double exactMatch(String prediction, List<String> golds) {
    return golds.stream().mapToDouble(g -> exactMatch(prediction, g)).max().orElse(0);
  }

  /** The best F1 over several gold answers (0 when there are none). */
  public static double f1(String prediction, List<String> golds) {
    return golds.stream().mapToDouble(g -> f1(prediction, g)).max().orElse(0);
  }
}
