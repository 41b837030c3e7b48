package io.quantguard.serve;

import io.quantguard.runtime.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What one version did with one request, for the {@link ExchangeObserver}.
 *
 * <p>{@code nanos} runs from the moment the request joined the version's queue to the moment its
 * outputs were ready: queueing, batching delay and the run, without HTTP and JSON.
 */
public sealed interface Outcome {
  ModelKey key();

  long nanos();

  /** The version ran the request; {@code outputs} are the request's own rows. */
  record Success(ModelKey key, Map<String, Tensor> outputs, long nanos) implements Outcome {
    public Success {
      outputs = Collections.unmodifiableMap(new LinkedHashMap<>(outputs));
    }
  }

  /**
   * The version did not answer: {@code status} is the HTTP status the client got (or would have
   * got, for a shadow), e.g. 429 when its queue was full, 400 when ONNX Runtime refused the data.
   */
  record Failure(ModelKey key, int status, @Nullable String message, long nanos)
      implements Outcome {}
}
