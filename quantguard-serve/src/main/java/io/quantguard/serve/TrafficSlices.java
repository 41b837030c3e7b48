package io.quantguard.serve;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The slice names a rollout keeps live figures for. A client tags a request with a slice (the
 * request parameter {@code slice} or the header {@value #HEADER}); the first {@link #limit()}
 * distinct names are kept as they are, every later one folds into {@value #OTHER}. The bound holds
 * for the rollout's life, not per window, so the per-slice meters and figures stay bounded however
 * many names the traffic carries.
 */
final class TrafficSlices {
  /** The HTTP header that tags a request with a slice, as the {@code slice} parameter does. */
  static final String HEADER = "X-QuantGuard-Slice";

  /** Where slices past the limit go; a client's own {@code other} goes there too. */
  static final String OTHER = "other";

  /** Named slices a rollout keeps by default. */
  static final int DEFAULT_LIMIT = 32;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:=-]{0,63}");

  private final int limit;
  private final Set<String> kept = new LinkedHashSet<>();

  TrafficSlices(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("a slice limit must be at least 1, not " + limit);
    }
    this.limit = limit;
  }

  int limit() {
    return limit;
  }

  /** The name {@code tag}'s figures are kept under: itself while there is room, else other. */
  synchronized String admit(String tag) {
    if (kept.contains(tag)) {
      return tag;
    }
    if (tag.equals(OTHER) || kept.size() >= limit) {
      return OTHER;
    }
    kept.add(tag);
    return tag;
  }

  /**
   * Checks a slice tag a client sent: 1 to 64 letters, digits or {@code _ . : = -}, starting with a
   * letter or digit, so that it can be a metric label and a JSON key as it is.
   *
   * @param where how the request carried it, for the message
   * @throws OipException (400) naming what was wrong
   */
  static String check(@Nullable String tag, String where) {
    if (tag == null || !NAME.matcher(tag).matches()) {
      String shown = tag == null ? "null" : tag.length() > 64 ? tag.substring(0, 64) + "..." : tag;
      throw OipException.badRequest(
          where
              + " is '"
              + shown
              + "': a slice is 1 to 64 letters, digits or _ . : = -, starting with a letter or"
              + " digit");
    }
    return tag;
  }
}
