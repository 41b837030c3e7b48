package io.quantguard.serve;

import io.quantguard.runtime.Tensor;
import java.util.Collection;
import java.util.Map;

/**
 * Runs one model version. The server calls {@link #run} from that version's single batch worker
 * only, and {@link #close} after the worker has stopped, so a runner never sees a run and a close
 * at once. This is the one seam between serving and ONNX Runtime: a session lease with
 * drain-before-close replaces {@link #session} without touching the rest of the server.
 */
public interface ModelRunner extends AutoCloseable {
  /** Runs the model and returns the wanted outputs, in the wanted order. */
  Map<String, Tensor> run(Map<String, Tensor> inputs, Collection<String> wanted);

  /** Releases the native session; idempotent. */
  @Override
  void close();

  /** A runner over an open session, which it owns from now on. */
  static ModelRunner session(io.quantguard.runtime.InferenceSession session) {
    return new ModelRunner() {
      @Override
      public Map<String, Tensor> run(Map<String, Tensor> inputs, Collection<String> wanted) {
        return session.run(inputs, wanted);
      }

      @Override
      public void close() {
        session.close();
      }
    };
  }
}
