package io.quantguard.qat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSource;
import io.quantguard.runtime.data.DataSpec;
import java.util.HashMap;
import java.util.Map;

/** Fashion-MNIST data and top-1 accuracy, on ONNX Runtime and in the training engine. */
final class Classifier {
  private Classifier() {}

  static DataSource sample(String file, int limit) {
    return DataSpec.parse(
        "idx:" + TestModels.fashionMnistSample(file) + "?input=image&limit=" + limit);
  }

  /** A full Fashion-MNIST file; skips the calling test where it is absent. */
  static DataSource full(String file) {
    return DataSpec.parse("idx:" + TestModels.fashionMnist(file) + "?input=image");
  }

  static double onnxRuntime(OnnxModel model, DataSource data) {
    long correct = 0;
    long n = 0;
    try (InferenceSession s = InferenceSession.open(model, SessionConfig.defaults());
        BatchStream b = data.open(500)) {
      while (b.hasNext()) {
        Batch batch = b.next();
        correct += hits(s.run(batch.inputs()).get("logits").floats(), batch);
        n += batch.size();
      }
    }
    return correct / (double) n;
  }

  /** Mean cross-entropy of the graph's logits on labelled data, in the engine. */
  static double loss(TrainableGraph g, DataSource data) {
    double sum = 0;
    long n = 0;
    try (BatchStream b = data.open(500)) {
      while (b.hasNext()) {
        Batch batch = b.next();
        try (NDScope scope = new NDScope();
            NDManager local = g.manager().newSubManager()) {
          scope.suppressNotUsedWarning();
          NDArray logits = g.forward(inputs(local, batch), "logits");
          NDArray target = local.create(batch.labels()).expandDims(1);
          sum += logits.logSoftmax(1).gather(target, 1).neg().sum().getFloat();
        }
        n += batch.size();
      }
    }
    return sum / n;
  }

  private static Map<String, NDArray> inputs(NDManager local, Batch batch) {
    Map<String, NDArray> in = new HashMap<>();
    for (Map.Entry<String, Tensor> e : batch.inputs().entrySet()) {
      in.put(e.getKey(), Values.toArray(local, e.getValue()));
    }
    return in;
  }

  static double engine(TrainableGraph g, DataSource data) {
    long correct = 0;
    long n = 0;
    try (BatchStream b = data.open(500)) {
      while (b.hasNext()) {
        Batch batch = b.next();
        try (NDScope scope = new NDScope();
            NDManager local = g.manager().newSubManager()) {
          scope.suppressNotUsedWarning();
          correct += hits(g.forward(inputs(local, batch), "logits").toFloatArray(), batch);
        }
        n += batch.size();
      }
    }
    return correct / (double) n;
  }

  private static long hits(float[] logits, Batch batch) {
    long[] labels = batch.labels();
    long correct = 0;
    for (int i = 0; i < batch.size(); i++) {
      int best = 0;
      for (int c = 1; c < 10; c++) {
        if (logits[i * 10 + c] > logits[i * 10 + best]) {
          best = c;
        }
      }
      correct += labels != null && best == labels[i] ? 1 : 0;
    }
    return correct;
  }
}
