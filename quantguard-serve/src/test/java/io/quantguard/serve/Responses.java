package io.quantguard.serve;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantguard.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Reads inference responses back into tensors (JSON data or binary data), and makes inputs. */
final class Responses {
  private Responses() {}

  /** The outputs of a 200 response, by name, whether sent as JSON or binary data. */
  static Map<String, Tensor> outputs(Http.Response r) {
    String length = r.header("Inference-Header-Content-Length");
    int jsonLength = length == null ? r.body().length : Integer.parseInt(length);
    JsonNode root;
    try {
      root = Http.JSON.readTree(Arrays.copyOf(r.body(), jsonLength));
    } catch (java.io.IOException e) {
      throw new IllegalStateException(r.text(), e);
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    int at = jsonLength;
    for (JsonNode o : root.path("outputs")) {
      long[] shape = new long[o.path("shape").size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = o.path("shape").get(i).asLong();
      }
      int n = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
      String type = o.path("datatype").asText();
      JsonNode size = o.path("parameters").get("binary_data_size");
      if (size != null) {
        ByteBuffer b =
            ByteBuffer.wrap(r.body(), at, size.asInt()).slice().order(ByteOrder.LITTLE_ENDIAN);
        at += size.asInt();
        if (type.equals("FP32")) {
          float[] f = new float[n];
          b.asFloatBuffer().get(f);
          out.put(o.path("name").asText(), Tensor.ofFloats(f, shape));
        } else {
          throw new IllegalStateException("test reads FP32 outputs only, not " + type);
        }
      } else {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
          // BigDecimal text to float: the exact float the server wrote.
          f[i] = Float.parseFloat(o.path("data").get(i).decimalValue().toString());
        }
        out.put(o.path("name").asText(), Tensor.ofFloats(f, shape));
      }
    }
    return out;
  }

  /** {@code rows} random Fashion-MNIST-shaped images, pixels in [0, 1). */
  static Tensor images(int rows, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] f = new float[rows * 784];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) random.nextDouble();
    }
    return Tensor.ofFloats(f, rows, 1, 28, 28);
  }

  /** MiniLM inputs: random token ids (after [CLS] 101), a full attention mask, type ids 0. */
  static Map<String, Tensor> tokens(int rows, int length, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    long[] ids = new long[rows * length];
    long[] mask = new long[rows * length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = i % length == 0 ? 101 : 1000 + random.nextInt(20000);
      mask[i] = 1;
    }
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put("input_ids", Tensor.ofLongs(ids, rows, length));
    m.put("attention_mask", Tensor.ofLongs(mask, rows, length));
    m.put("token_type_ids", Tensor.ofLongs(new long[rows * length], rows, length));
    return m;
  }
}
