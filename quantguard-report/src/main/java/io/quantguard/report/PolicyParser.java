package io.quantguard.report;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.quantguard.onnx.InvalidInputException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a policy from its YAML tree by hand rather than by data binding, so every mistake names its
 * place ({@code rules.accuracy.max_drp}) and what is allowed there, and a limit may be written as a
 * number or as a percent string.
 */
final class PolicyParser {
  private static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory()).enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
  private static final List<String> TOP_KEYS = List.of("name", "rules");
  private static final List<String> LIMIT_KEYS =
      Arrays.stream(Limit.Kind.values()).map(Limit.Kind::key).toList();
  private static final List<String> OPTION_KEYS = List.of("per_slice", "use", "min_samples");

  private final String source;

  private PolicyParser(String source) {
    this.source = source;
  }

  static Policy parse(String text, String source) {
    return new PolicyParser(source).policy(text);
  }

  private Policy policy(String text) {
    JsonNode root;
    try {
      root = YAML.readTree(text);
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")";
      throw new InvalidInputException(
          source, "is not valid YAML" + where + ": " + e.getOriginalMessage(), "fix the syntax", e);
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      throw bad("is empty", "write rules:, e.g. rules: {accuracy: {max_drop: 0.5%}}");
    }
    if (!root.isObject()) {
      throw bad("is not a YAML mapping", "write rules:, e.g. rules: {accuracy: {max_drop: 0.5%}}");
    }
    unknownKeys(root, "the top level", TOP_KEYS);
    String name = defaultName();
    if (root.has("name")) {
      if (!root.get("name").isValueNode() || root.get("name").asText().isBlank()) {
        throw bad("name must be a non-empty string", "write name: strict");
      }
      name = root.get("name").asText();
    }
    JsonNode rules = root.get("rules");
    if (rules == null || !rules.isObject() || rules.isEmpty()) {
      throw bad(
          "has no rules (a mapping of metric names to limits)",
          "write rules:, e.g. rules: {accuracy: {max_drop: 0.5%}}");
    }
    List<Rule> out = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : rules.properties()) {
      String metric = e.getKey();
      JsonNode body = e.getValue();
      String at = "rules." + metric;
      if (body.isArray()) {
        if (body.isEmpty()) {
          throw bad(at + " is an empty list", "give one or more limits, e.g. {max_drop: 0.5%}");
        }
        for (int i = 0; i < body.size(); i++) {
          out.addAll(rules(metric, body.get(i), at + "[" + i + "]"));
        }
      } else {
        out.addAll(rules(metric, body, at));
      }
    }
    return new Policy(name, source, out);
  }

  /** One mapping of limits and options: one rule per limit, all sharing the options. */
  private List<Rule> rules(String metric, JsonNode body, String at) {
    if (!body.isObject()) {
      throw bad(
          at
              + " must be a mapping of limits, not "
              + body.getNodeType().toString().toLowerCase(Locale.ROOT),
          "e.g. " + metric + ": {max_drop: 0.5%} (keys: " + String.join(", ", LIMIT_KEYS) + ")");
    }
    List<String> keys = new ArrayList<>(LIMIT_KEYS);
    keys.addAll(OPTION_KEYS);
    unknownKeys(body, at, keys);
    boolean perSlice = false;
    if (body.has("per_slice")) {
      JsonNode p = body.get("per_slice");
      if (!p.isBoolean()) {
        throw bad(at + ".per_slice must be true or false, not '" + p.asText() + "'", "");
      }
      perSlice = p.booleanValue();
    }
    Rule.Use use = Rule.Use.ESTIMATE;
    if (body.has("use")) {
      String u = body.get("use").asText();
      use =
          switch (u) {
            case "estimate" -> Rule.Use.ESTIMATE;
            case "worst_bound" -> Rule.Use.WORST_BOUND;
            default -> throw bad(at + ".use is '" + u + "'", "write estimate or worst_bound");
          };
    }
    int minSamples = Rule.DEFAULT_MIN_SAMPLES;
    if (body.has("min_samples")) {
      JsonNode n = body.get("min_samples");
      if (!n.canConvertToInt() || !n.isIntegralNumber() || n.intValue() < 1) {
        throw bad(at + ".min_samples must be a whole number ≥ 1, not '" + n.asText() + "'", "");
      }
      minSamples = n.intValue();
    }
    List<Rule> out = new ArrayList<>();
    for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (LIMIT_KEYS.contains(key)) {
        out.add(
            new Rule(metric, limit(key, body.get(key), at + "." + key), perSlice, use, minSamples));
      }
    }
    if (out.isEmpty()) {
      throw bad(at + " has no limit", "give one of " + String.join(", ", LIMIT_KEYS));
    }
    return out;
  }

  private Limit limit(String key, JsonNode node, String at) {
    double v = number(node, at);
    String text = node.asText().trim();
    if ((key.equals("min_ratio") || key.equals("max_ratio")) && v <= 0) {
      throw bad(at + " must be a positive ratio, not " + text, "e.g. 0.7 for 70 % of the baseline");
    }
    Limit.Kind kind = Limit.Kind.ofKey(key);
    if (kind == null) {
      throw new IllegalStateException(key);
    }
    return new Limit(kind, v, text);
  }

  /** A number, or a percent string ({@code "2%"} = 0.02). */
  private double number(JsonNode node, String at) {
    double v;
    if (node.isNumber()) {
      v = node.doubleValue();
    } else if (node.isTextual()) {
      String s = node.asText().trim();
      boolean percent = s.endsWith("%");
      String digits = percent ? s.substring(0, s.length() - 1).trim() : s;
      try {
        v = Double.parseDouble(digits);
      } catch (NumberFormatException e) {
        throw bad(
            at + " is '" + s + "', not a number or a percentage",
            "write a fraction (0.005) or a percentage (0.5%)");
      }
      if (percent) {
        v /= 100;
      }
    } else {
      throw bad(
          at
              + " must be a number or a percentage, not "
              + node.getNodeType().toString().toLowerCase(Locale.ROOT),
          "write a fraction (0.005) or a percentage (0.5%)");
    }
    if (!Double.isFinite(v)) {
      throw bad(at + " must be finite", "");
    }
    return v;
  }

  private void unknownKeys(JsonNode node, String at, List<String> allowed) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!allowed.contains(k)) {
        throw bad(
            "unknown policy key '" + k + "' at " + at,
            "valid keys there: " + String.join(", ", allowed));
      }
    }
  }

  private String defaultName() {
    String file = source;
    int slash = Math.max(source.lastIndexOf('/'), source.lastIndexOf('\\'));
    if (slash >= 0) {
      file = source.substring(slash + 1);
    }
    return file.replaceFirst("\\.(ya?ml|json)$", "");
  }

  private InvalidInputException bad(String problem, String fix) {
    return new InvalidInputException(source, problem, fix);
  }
}
