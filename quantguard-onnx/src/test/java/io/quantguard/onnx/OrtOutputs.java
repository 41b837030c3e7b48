package io.quantguard.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Runs a model file on ONNX Runtime (one thread, so results are reproducible) and returns raw
 * output bits.
 */
final class OrtOutputs {
  private OrtOutputs() {}

  static Map<String, int[]> run(Path model, Map<String, Object> inputs) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setIntraOpNumThreads(1);
      opts.setInterOpNumThreads(1);
      try (OrtSession s = env.createSession(model.toString(), opts)) {
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        try {
          for (Map.Entry<String, Object> e : inputs.entrySet()) {
            feed.put(e.getKey(), tensor(env, e.getValue()));
          }
          Map<String, int[]> out = new LinkedHashMap<>();
          try (OrtSession.Result r = s.run(feed)) {
            for (Map.Entry<String, OnnxValue> e : r) {
              FloatBuffer fb = ((OnnxTensor) e.getValue()).getFloatBuffer();
              int[] bits = new int[fb.remaining()];
              for (int i = 0; i < bits.length; i++) {
                bits[i] = Float.floatToRawIntBits(fb.get(i));
              }
              out.put(e.getKey(), bits);
            }
          }
          return out;
        } finally {
          feed.values().forEach(OnnxTensor::close);
        }
      }
    }
  }

  private static OnnxTensor tensor(OrtEnvironment env, Object v) throws OrtException {
    if (v instanceof float[][][][] f) {
      return OnnxTensor.createTensor(env, f);
    }
    long[][] l = (long[][]) v;
    long[] flat = new long[l.length * l[0].length];
    for (int i = 0; i < l.length; i++) {
      System.arraycopy(l[i], 0, flat, i * l[0].length, l[0].length);
    }
    return OnnxTensor.createTensor(env, LongBuffer.wrap(flat), new long[] {l.length, l[0].length});
  }

  static Map<String, Object> cnnInputs(long seed) {
    Random r = new Random(seed);
    float[][][][] x = new float[4][1][28][28];
    for (float[][][] img : x) {
      for (float[] row : img[0]) {
        for (int i = 0; i < row.length; i++) {
          row[i] = r.nextFloat();
        }
      }
    }
    return Map.of("image", x);
  }

  static Map<String, Object> bertInputs(long seed) {
    Random r = new Random(seed);
    long[][] ids = new long[2][16];
    long[][] mask = new long[2][16];
    long[][] types = new long[2][16];
    for (int b = 0; b < 2; b++) {
      ids[b][0] = 101;
      for (int i = 1; i < 15; i++) {
        ids[b][i] = 1000 + r.nextInt(28000);
      }
      ids[b][15] = 102;
      java.util.Arrays.fill(mask[b], 1);
    }
    mask[1][14] = 0;
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("input_ids", ids);
    m.put("attention_mask", mask);
    m.put("token_type_ids", types);
    return m;
  }
}
