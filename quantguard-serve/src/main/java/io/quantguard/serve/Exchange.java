package io.quantguard.serve;

import io.quantguard.runtime.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One inference request after both its versions finished: the decoded inputs, the primary's outcome
 * (what the client got) and the shadow's, when the route had one. This is what a live paired
 * comparison, error and latency monitors, and drift statistics read.
 *
 * @param requestId the client's {@code id}, or null
 * @param slice the slice the client tagged the request with ({@link TrafficSlices}), or null
 */
public record Exchange(
    @Nullable String requestId,
    Map<String, Tensor> inputs,
    Outcome primary,
    @Nullable Outcome shadow,
    @Nullable String slice) {
  public Exchange {
    inputs = Collections.unmodifiableMap(new LinkedHashMap<>(inputs));
  }

  /** An exchange of a request without a slice tag. */
  public Exchange(
      @Nullable String requestId,
      Map<String, Tensor> inputs,
      Outcome primary,
      @Nullable Outcome shadow) {
    this(requestId, inputs, primary, shadow, null);
  }

  public Optional<Outcome> shadowOutcome() {
    return Optional.ofNullable(shadow);
  }
}
