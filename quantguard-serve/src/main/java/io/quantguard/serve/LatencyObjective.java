package io.quantguard.serve;

import io.quantguard.onnx.InvalidInputException;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A latency objective such as {@code p95 <= 20 ms}: the given percentile of the request latency a
 * model's answers must keep under load.
 *
 * @param percentile the percentile judged, above 0 and below 100 (95 for p95)
 * @param limit the latency that percentile must not exceed
 */
public record LatencyObjective(double percentile, Duration limit) {
  private static final Pattern FORM =
      Pattern.compile(
          "p(\\d{1,2}(?:\\.\\d+)?)\\s*(?:<=|≤)\\s*(\\d+(?:\\.\\d+)?)\\s*(us|µs|ms|s)",
          Pattern.CASE_INSENSITIVE);

  public LatencyObjective {
    if (!(percentile > 0 && percentile < 100)) {
      throw InvalidInputException.forParameter(
          "adaptive.objective", "p" + percentile, "names no percentile", "use p50 to p99.9");
    }
    if (limit.isNegative() || limit.isZero()) {
      throw InvalidInputException.forParameter(
          "adaptive.objective", limit, "must allow a positive latency", "e.g. p95 <= 20 ms");
    }
  }

  /** Reads {@code pNN <= X UNIT} (also {@code ≤}; units us, ms, s), e.g. {@code p95<=20ms}. */
  public static LatencyObjective parse(String text) {
    Matcher m = FORM.matcher(text.strip());
    if (!m.matches()) {
      throw InvalidInputException.forParameter(
          "adaptive.objective",
          text,
          "is not a latency objective",
          "write it as pNN<=X with a unit, e.g. p95<=20ms or p99<=0.5s");
    }
    double x = Double.parseDouble(m.group(2));
    double nanos =
        x
            * switch (m.group(3).toLowerCase(Locale.ROOT)) {
              case "s" -> 1e9;
              case "ms" -> 1e6;
              default -> 1e3;
            };
    return new LatencyObjective(
        Double.parseDouble(m.group(1)), Duration.ofNanos(Math.round(nanos)));
  }

  /** The limit in milliseconds. */
  public double limitMillis() {
    return limit.toNanos() / 1e6;
  }

  /** {@code p95 <= 20 ms}. */
  @Override
  public String toString() {
    return String.format(Locale.ROOT, "p%s <= %s ms", trim(percentile), trim(limitMillis()));
  }

  private static String trim(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }
}
