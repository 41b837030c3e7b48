package io.quantguard.tune;

import io.quantguard.onnx.OnnxModel;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The FP32 model's outputs (and any inner tensors asked for) on a small, fixed set of batches, kept
 * in memory so that many candidate models can be compared with them cheaply: what ranking nodes and
 * choosing repairs need, long before a full evaluation.
 */
final class ReferenceOutputs {
  private final List<Batch> data;
  private final List<Map<String, Tensor>> reference = new ArrayList<>();
  private final List<String> outputs;
  private final SessionConfig session;

  ReferenceOutputs(OnnxModel fp32, List<Batch> data, List<String> inner, SessionConfig session) {
    this.data = List.copyOf(data);
    this.session = session;
    this.outputs = fp32.graph().outputs().stream().map(v -> v.getName()).toList();
    List<String> wanted = new ArrayList<>(outputs);
    inner.stream().filter(t -> !wanted.contains(t)).forEach(wanted::add);
    try (InferenceSession s = InferenceSession.open(fp32, session, inner)) {
      for (Batch b : data) {
        reference.add(s.run(b.inputs(), wanted));
      }
    }
  }

  /** The first {@code samples} samples of a data source (whole batches), read once. */
  static List<Batch> read(DataSource source, int samples) {
    List<Batch> out = new ArrayList<>();
    int n = 0;
    try (BatchStream s = source.open(16)) {
      while (s.hasNext() && n < samples) {
        Batch b = s.next();
        out.add(b);
        n += b.size();
      }
    }
    return out;
  }

  long samples() {
    return data.stream().mapToLong(Batch::size).sum();
  }

  List<Map<String, Tensor>> reference() {
    return reference;
  }

  /** SQNR of all graph outputs of a candidate against FP32 on these batches. */
  Sqnr outputSqnr(OnnxModel candidate) {
    return compare(candidate, null, null);
  }

  /**
   * SQNR of all graph outputs against FP32; when {@code inner} is given and was kept from the FP32
   * run, that inner tensor's SQNR is added to {@code innerSqnr} from the same run.
   */
  Sqnr compare(OnnxModel candidate, @Nullable String inner, @Nullable Sqnr innerSqnr) {
    Sqnr total = new Sqnr();
    boolean withInner =
        inner != null && !reference.isEmpty() && reference.get(0).containsKey(inner);
    List<String> expose = withInner ? List.of(inner) : List.of();
    List<String> wanted = new ArrayList<>(outputs);
    expose.stream().filter(t -> !wanted.contains(t)).forEach(wanted::add);
    try (InferenceSession s = InferenceSession.open(candidate, session, expose)) {
      for (int i = 0; i < data.size(); i++) {
        Map<String, Tensor> got = s.run(data.get(i).inputs(), wanted);
        for (String o : outputs) {
          total.add(tensor(reference.get(i), o).toFloats(), tensor(got, o).toFloats());
        }
        if (withInner && inner != null && innerSqnr != null) {
          innerSqnr.add(tensor(reference.get(i), inner).toFloats(), tensor(got, inner).toFloats());
        }
      }
    }
    return total;
  }

  /** A tensor a run was asked for; ONNX Runtime returns every requested one. */
  private static Tensor tensor(Map<String, Tensor> run, String name) {
    Tensor t = run.get(name);
    if (t == null) {
      throw new IllegalStateException("the run returned no tensor " + name);
    }
    return t;
  }
}
