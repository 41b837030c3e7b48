package io.quantguard.serve;

import io.quantguard.runtime.Tensor;
import java.util.Map;

/**
 * An inference request body as a client sends it, with the headers it needs: {@code Content-Type}
 * and, for binary tensor data, {@code Inference-Header-Content-Length}. The load generator and
 * {@code quantguard serve-bench} build their requests with it.
 */
public record RequestBody(byte[] bytes, Map<String, String> headers) {
  public RequestBody {
    headers = Map.copyOf(headers);
  }

  /** Inputs as JSON {@code data}; outputs come back as JSON. */
  public static RequestBody json(String id, Map<String, Tensor> inputs) {
    return of(OipCodec.encodeRequest(id, inputs, false, false));
  }

  /**
   * Inputs as binary tensor data after the JSON header; {@code binaryOutputs} asks for every output
   * as binary data too.
   */
  public static RequestBody binary(String id, Map<String, Tensor> inputs, boolean binaryOutputs) {
    return of(OipCodec.encodeRequest(id, inputs, true, binaryOutputs));
  }

  private static RequestBody of(OipCodec.Encoded e) {
    return e.binary()
        ? new RequestBody(
            e.body(),
            Map.of(
                "Content-Type",
                "application/octet-stream",
                "Inference-Header-Content-Length",
                Integer.toString(e.jsonLength())))
        : new RequestBody(e.body(), Map.of("Content-Type", "application/json"));
  }
}
