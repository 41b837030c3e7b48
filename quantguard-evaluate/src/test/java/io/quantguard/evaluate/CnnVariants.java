package io.quantguard.evaluate;

import io.quantguard.onnx.Float16;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.nio.file.Path;
import java.util.Random;
import java.util.function.UnaryOperator;

/**
 * Candidates made from the Fashion-MNIST CNN by perturbing its fully connected (Gemm) weights,
 * until the quantizer lands: rounded to fp16 precision (a near-lossless candidate), or with seeded
 * Gaussian noise of a given fraction of each weight tensor's standard deviation (a lossy one).
 */
final class CnnVariants {
  private CnnVariants() {}

  static Path fp16Rounded(Path cnn, Path out) {
    return rewriteGemmWeights(
        cnn,
        out,
        w -> {
          float[] r = new float[w.length];
          for (int i = 0; i < w.length; i++) {
            r[i] = Float16.toFloat(Float16.fromFloat(w[i]));
          }
          return r;
        });
  }

  static Path noisy(Path cnn, Path out, double relativeSigma, long seed) {
    Random random = new Random(seed);
    return rewriteGemmWeights(
        cnn,
        out,
        w -> {
          double mean = 0;
          for (float v : w) {
            mean += v;
          }
          mean /= w.length;
          double var = 0;
          for (float v : w) {
            var += (v - mean) * (v - mean);
          }
          double sigma = relativeSigma * Math.sqrt(var / w.length);
          float[] r = new float[w.length];
          for (int i = 0; i < w.length; i++) {
            r[i] = (float) (w[i] + sigma * random.nextGaussian());
          }
          return r;
        });
  }

  private static Path rewriteGemmWeights(Path cnn, Path out, UnaryOperator<float[]> f) {
    OnnxModel m = ModelIO.load(cnn);
    for (Node n : m.graph().nodes()) {
      if (n.opType().equals("Gemm")) {
        TensorProto w = m.graph().initializer(n.input(1)).orElseThrow();
        float[] values = TensorCodec.toFloats(w, m.externalData());
        m.graph()
            .putInitializer(
                TensorCodec.fromFloats(w.getName(), TensorCodec.dims(w), f.apply(values)));
      }
    }
    ModelIO.save(m, out);
    return out;
  }
}
