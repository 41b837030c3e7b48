package io.quantguard.runtime;

import io.quantguard.benchmarks.Rounds;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A baseline and a canary in one process, both busy: the throughput of two sessions with {@code T}
 * threads each (per-session pools, 2T threads) against two sessions sharing the process's global
 * pool of {@code T} threads, each session run flat out from its own Java thread for the same time,
 * the two set-ups alternating round by round. Prints images per second and the ratio global /
 * per-session; nothing is asserted.
 *
 * <p>Arguments: {@code [CNN=../shared/fixtures/fashion_cnn_fp32.onnx] [T=2] [SECONDS=5] [ROUNDS=5]
 * [BATCH=16]}. The global-pool sessions open first, as they must ({@link
 * SessionConfig.ThreadPool#GLOBAL}). Run from the repository root with {@code
 * quantguard-benchmarks/measure thread-pools ARGS}.
 */
public final class ThreadPoolMeasurement {
  private ThreadPoolMeasurement() {}

  public static void main(String[] args) throws Exception {
    Path model = Path.of(args.length > 0 ? args[0] : "../shared/fixtures/fashion_cnn_fp32.onnx");
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 5;
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
    int batch = args.length > 4 ? Integer.parseInt(args[4]) : 16;
    SessionConfig own = SessionConfig.defaults().withThreads(threads);
    SessionConfig global = own.withThreadPool(SessionConfig.ThreadPool.GLOBAL);
    Map<String, Tensor> feed = Map.of("image", images(batch));
    ExecutorService callers = Executors.newFixedThreadPool(2);
    try (InferenceSession g1 = InferenceSession.open(model, global);
        InferenceSession g2 = InferenceSession.open(model, global);
        InferenceSession o1 = InferenceSession.open(model, own);
        InferenceSession o2 = InferenceSession.open(model, own)) {
      throughput(callers, List.of(g1, g2), feed, seconds / 2); // warm-up of both set-ups
      throughput(callers, List.of(o1, o2), feed, seconds / 2);
      double[] perSession = new double[rounds];
      double[] shared = new double[rounds];
      double[] ratio = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        perSession[r] = throughput(callers, List.of(o1, o2), feed, seconds);
        shared[r] = throughput(callers, List.of(g1, g2), feed, seconds);
        ratio[r] = shared[r] / perSession[r];
        System.out.printf(
            Locale.ROOT,
            "round %d: 2 sessions × %d own threads %.0f images/s, 2 sessions on a global pool of %d"
                + " %.0f images/s, ratio %.2f%n",
            r,
            threads,
            perSession[r],
            threads,
            shared[r],
            ratio[r]);
      }
      System.out.printf(
          Locale.ROOT,
          "median of %d rounds (%d cores): per-session %.0f images/s, global %.0f images/s,"
              + " global / per-session ×%.2f%n",
          rounds,
          Runtime.getRuntime().availableProcessors(),
          Rounds.median(perSession),
          Rounds.median(shared),
          Rounds.median(ratio));
    } finally {
      callers.shutdownNow();
    }
  }

  /** Images per second of the sessions run together, each from its own caller thread. */
  private static double throughput(
      ExecutorService callers, List<InferenceSession> sessions, Map<String, Tensor> feed, double s)
      throws Exception {
    long t0 = System.nanoTime();
    long end = t0 + (long) (s * 1e9);
    int perRun = feed.values().iterator().next().batchSize(); // the one input: the images
    List<Future<Long>> runs = new ArrayList<>();
    for (InferenceSession session : sessions) {
      runs.add(
          callers.submit(
              () -> {
                long images = 0;
                while (System.nanoTime() < end) {
                  session.run(feed);
                  images += perRun;
                }
                return images;
              }));
    }
    long images = 0;
    for (Future<Long> f : runs) {
      images += f.get();
    }
    return images / ((System.nanoTime() - t0) / 1e9);
  }

  private static Tensor images(int n) {
    Random r = new Random(1);
    float[] x = new float[n * 784];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextFloat();
    }
    return Tensor.ofFloats(x, n, 1, 28, 28);
  }
}
