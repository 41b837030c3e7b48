package io.quantguard.serve;

import io.quantguard.evaluate.drift.Attribution;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The drift endpoint's answer to "why did quality fall": {@link Attribution}'s ranking of the drift
 * and overflow series over the closed windows, with equal associations reported as ties (with a
 * handful of windows many series order the windows alike, and a ranking among them would be made
 * up), and one sentence that says whether the drop coincides with a shift of the inputs — traffic
 * unlike the reference — or with no drift at all, which points at the model.
 *
 * <p>Quality fell when the latest window's is below the oldest's by more than the older half of the
 * windows spans (max − min), so that window-to-window noise is not read as a drop; then a series
 * "moved with" it when its association (sign-adjusted Spearman ρ) is at least {@value #MOVED}. An
 * input also moved with it when it <em>shifted</em>: its drift test flags the latest window and its
 * magnitude there is above every window of the older half. A change of traffic is a step, and a
 * step correlates only loosely with a quality that stays noisy after it (MiniLM on technical
 * English: ρ 0.5–0.6 for a drift that every technical window shows), so the step is judged as the
 * quality is, latest against the older half.
 */
final class QualityAttribution {
  static final double MOVED = 0.7;
  private static final double TIE = 1e-9;
  private static final int NAMED = 3;

  /** What a drift series watches. */
  enum Kind {
    INPUT,
    OUTPUT,
    TENSOR
  }

  private final String quality;
  private final double[] series;
  private final List<Attribution.Ranked> ranked;
  private final Map<String, double[]> drift;
  private final Set<String> driftedLatest;
  private final Function<String, Kind> kind;

  /**
   * @param series the quality per closed window, oldest first (NaN where none was measured)
   * @param drift each drift series over the same windows (NaN where not measured)
   * @param driftedLatest the features whose drift test flags the latest window
   */
  QualityAttribution(
      String quality,
      double[] series,
      Map<String, double[]> drift,
      Set<String> driftedLatest,
      Function<String, Kind> kind) {
    this.quality = quality;
    this.series = series.clone();
    this.drift = Map.copyOf(drift);
    this.driftedLatest = Set.copyOf(driftedLatest);
    this.kind = kind;
    boolean enough = java.util.Arrays.stream(series).filter(Double::isFinite).count() >= 3;
    this.ranked =
        enough
            ? Attribution.rank(series, true, drift).stream()
                .filter(r -> !Double.isNaN(r.association()))
                .toList()
            : List.of();
  }

  Map<String, Object> report() {
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("quality", quality);
    a.put("windows", series.length);
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Attribution.Ranked r : ranked) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("series", r.name());
      row.put("kind", kind.apply(r.name()).name().toLowerCase(Locale.ROOT));
      row.put("association", r.association());
      row.put("windows", r.windows());
      row.put("rank", rank(r));
      row.put("tied", tied(r));
      row.put("shifted", shifted(r));
      rows.add(row);
    }
    a.put("ranked", rows);
    a.put("summary", summary());
    return a;
  }

  /** 1 + the number of series associated more strongly: equal associations share a rank. */
  int rank(Attribution.Ranked r) {
    return 1 + (int) ranked.stream().filter(x -> x.association() > r.association() + TIE).count();
  }

  /** How many series share {@code r}'s association, itself included. */
  int tied(Attribution.Ranked r) {
    return (int)
        ranked.stream().filter(x -> Math.abs(x.association() - r.association()) <= TIE).count();
  }

  /** One sentence for people: what quality did and which kind of drift moved with it. */
  String summary() {
    double[] q = java.util.Arrays.stream(series).filter(Double::isFinite).toArray();
    if (ranked.isEmpty() || q.length < 3) {
      return "fewer than three windows with a paired " + quality + ": nothing to attribute yet";
    }
    double first = q[0];
    double last = q[q.length - 1];
    // the older half's spread: how far windows move apart without a change of traffic, at best
    double low = Double.POSITIVE_INFINITY;
    double high = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < (q.length + 1) / 2; i++) {
      low = Math.min(low, q[i]);
      high = Math.max(high, q[i]);
    }
    double spread = high - low;
    String moved =
        String.format(
            Locale.ROOT,
            "%s went from %.4f in the oldest window to %.4f in the latest",
            quality,
            first,
            last);
    if (!(first - last > spread)) {
      return String.format(
          Locale.ROOT,
          "%s did not fall beyond the windows' noise (%.4f in the oldest window, %.4f in the"
              + " latest; the older half of the windows spans %.4f): no quality drop to attribute,"
              + " the ranking follows noise",
          quality,
          first,
          last,
          spread);
    }
    List<Attribution.Ranked> inputs = moved(Kind.INPUT);
    List<Attribution.Ranked> tensors = moved(Kind.TENSOR);
    List<Attribution.Ranked> outputs = moved(Kind.OUTPUT);
    if (!inputs.isEmpty()) {
      return moved
          + "; the quality drop coincides with an input shift: "
          + names(inputs)
          + " drifted as it fell"
          + (tensors.isEmpty()
              ? ""
              : ", and the activations of " + names(tensors) + " left the calibrated ranges")
          + ". The traffic changed: judge the candidate on the new traffic before blaming it";
    }
    if (!tensors.isEmpty()) {
      return moved
          + "; it fell as "
          + names(tensors)
          + " left the calibrated ranges, while no input feature drifted with it";
    }
    if (!outputs.isEmpty()) {
      return moved
          + "; only the reference's outputs drifted with it ("
          + names(outputs)
          + "), no input feature and no calibrated range";
    }
    return moved
        + String.format(
            Locale.ROOT,
            "; no input, output or overflow series moved with it (strongest ρ %.2f): the drift"
                + " does not explain it, look at the candidate",
            ranked.get(0).association());
  }

  private List<Attribution.Ranked> moved(Kind k) {
    return ranked.stream()
        .filter(r -> kind.apply(r.name()) == k && (r.association() >= MOVED || shifted(r)))
        .toList();
  }

  /**
   * Whether an input stepped away from the reference with the latest window: drifted there, and
   * above every window of the older half.
   */
  boolean shifted(Attribution.Ranked r) {
    double[] x = drift.get(r.name());
    if (x == null || x.length == 0 || kind.apply(r.name()) != Kind.INPUT) {
      return false;
    }
    double latest = x[x.length - 1];
    if (!driftedLatest.contains(r.name()) || !Double.isFinite(latest)) {
      return false;
    }
    for (int i = 0; i < (x.length + 1) / 2; i++) {
      if (!(x[i] < latest)) {
        return false;
      }
    }
    return true;
  }

  /** The first few names with their ρ, ties marked, and how many more moved. */
  private String names(List<Attribution.Ranked> rs) {
    List<String> named = new ArrayList<>();
    for (Attribution.Ranked r : rs.subList(0, Math.min(NAMED, rs.size()))) {
      int t = tied(r);
      named.add(
          String.format(
              Locale.ROOT,
              "%s (ρ %.2f%s%s)",
              r.name(),
              r.association(),
              t > 1 ? ", tied with " + (t - 1) + " more" : "",
              r.association() < MOVED && shifted(r)
                  ? ", a step: drifted in the latest window, beyond every older one"
                  : ""));
    }
    String s = String.join(", ", named);
    return rs.size() > NAMED ? s + " and " + (rs.size() - NAMED) + " more" : s;
  }
}
