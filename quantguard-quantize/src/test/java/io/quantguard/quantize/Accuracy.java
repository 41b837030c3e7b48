package io.quantguard.quantize;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSource;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Path;

/** Top-1 accuracy of a classifier on Fashion-MNIST, through ONNX Runtime. */
final class Accuracy {
  private Accuracy() {}

  static DataSource calibrationImages(int n) {
    return DataSpec.parse(
        "idx:"
            + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz")
            + "?input=image&limit="
            + n);
  }

  static DataSource testImages() {
    return DataSpec.parse(
        "idx:" + TestModels.fashionMnist("t10k-images-idx3-ubyte.gz") + "?input=image");
  }

  static double of(Path model) {
    try (InferenceSession s = InferenceSession.open(model, SessionConfig.defaults())) {
      return of(s);
    }
  }

  static double of(OnnxModel model) {
    try (InferenceSession s = InferenceSession.open(model, SessionConfig.defaults())) {
      return of(s);
    }
  }

  private static double of(InferenceSession s) {
    long correct = 0;
    long n = 0;
    try (BatchStream b = testImages().open(500)) {
      while (b.hasNext()) {
        Batch batch = b.next();
        float[] logits = s.run(batch.inputs()).get("logits").floats();
        for (int i = 0; i < batch.size(); i++) {
          int best = 0;
          for (int c = 1; c < 10; c++) {
            if (logits[i * 10 + c] > logits[i * 10 + best]) {
              best = c;
            }
          }
          correct += best == batch.labels()[i] ? 1 : 0;
        }
        n += batch.size();
      }
    }
    return correct / (double) n;
  }

  static OnnxModel load(Path p) {
    return ModelIO.load(p);
  }
}
