package io.quantguard.serve;

import io.micrometer.core.instrument.Gauge;
import io.quantguard.runtime.Tensor;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The queue and the single worker of one served version (see {@link BatchPolicy}). The worker
 * blocks on the queue while it is empty; when a request arrives it waits at most {@code maxDelay}
 * for more that stack with it, then runs them as one batch and hands each request its own rows.
 * Requests stack when the model's first dimension is free on every input and output and their other
 * dimensions and types agree; anything else runs alone. A request of another shape that arrives
 * while a batch gathers ends the waiting, as the first request has waited long enough, but not the
 * gathering: the batch still takes the requests of its shape already queued behind it (texts of
 * many lengths would otherwise run one by one), and the others are set aside, at most {@code
 * maxBatchSize} of them, to open later batches, which first take the set-aside requests of their
 * own shape, oldest first.
 *
 * <p>A request never suffers for another: when a stacked run fails (one request's data makes ONNX
 * Runtime refuse, say) or returns outputs whose first dimension is not the batch, each request of
 * the batch is run again alone, and only the one at fault fails.
 *
 * <p>Only the worker calls the runner, and {@link #stop} closes the runner after the worker has
 * finished everything queued, so a session is never closed under a run.
 */
final class Batcher {
  private record Job(
      Map<String, Tensor> inputs,
      List<String> outputs,
      int rows,
      @Nullable String stackKey,
      boolean counted,
      CompletableFuture<Map<String, Tensor>> result) {}

  private static final Job STOP =
      new Job(Map.of(), List.of(), 0, null, false, new CompletableFuture<>());

  private final ModelKey key;
  private final ModelSignature signature;
  private final ModelRunner runner;
  private final BatchPolicy policy;
  private final ServerMetrics metrics;
  private final LinkedBlockingQueue<Job> queue = new LinkedBlockingQueue<>();

  /** Requests taken from the queue that did not stack with the batch then gathered; worker only. */
  private final ArrayDeque<Job> aside = new ArrayDeque<>();

  private final AtomicInteger waiting = new AtomicInteger();
  private final Thread worker;
  private final Gauge depthGauge;
  private boolean accepting = true;

  Batcher(
      ModelKey key,
      ModelSignature signature,
      ModelRunner runner,
      BatchPolicy policy,
      ServerMetrics metrics) {
    this.key = key;
    this.signature = signature;
    this.runner = runner;
    this.policy = policy;
    this.metrics = metrics;
    this.depthGauge = metrics.queue(key, waiting::get);
    this.worker = new Thread(this::work, "quantguard-batch-" + key);
    worker.setDaemon(true);
    worker.start();
  }

  ModelKey key() {
    return key;
  }

  ModelSignature signature() {
    return signature;
  }

  int depth() {
    return waiting.get();
  }

  BatchPolicy policy() {
    return policy;
  }

  /** True when requests of this version can be stacked into one run. */
  boolean batchable() {
    return policy.enabled() && signature.batchable();
  }

  /**
   * Runs {@code inputs} alone through the worker, outside the metrics, and returns how long the
   * answer took in nanoseconds: the measurement that ranks variants before the server turns ready.
   */
  long probe(Map<String, Tensor> inputs) {
    Job job =
        new Job(
            inputs, signature.outputNames(), rows(inputs), null, false, new CompletableFuture<>());
    long start = System.nanoTime();
    synchronized (this) {
      if (!accepting) {
        throw OipException.unavailable("model " + key + " is stopping");
      }
      waiting.incrementAndGet();
      queue.add(job);
    }
    job.result.join();
    return System.nanoTime() - start;
  }

  /**
   * Queues a request (inputs already checked against the signature).
   *
   * @throws OipException 429 when the queue is full, 503 once the version is stopping
   */
  CompletableFuture<Map<String, Tensor>> submit(Map<String, Tensor> inputs, List<String> outputs) {
    int rows = rows(inputs);
    Job job =
        new Job(inputs, outputs, rows, stackKey(inputs, rows), true, new CompletableFuture<>());
    synchronized (this) {
      if (!accepting) {
        throw OipException.unavailable("model " + key + " is being unloaded; retry");
      }
      if (waiting.incrementAndGet() > policy.maxQueue()) {
        waiting.decrementAndGet();
        throw new OipException(
            429,
            "model "
                + key
                + " has "
                + policy.maxQueue()
                + " requests waiting; retry after a moment");
      }
      queue.add(job);
    }
    return job.result;
  }

  /** Rows along the first dimension when every input agrees on it; otherwise -1. */
  static int rows(Map<String, Tensor> inputs) {
    int rows = -1;
    for (Tensor t : inputs.values()) {
      if (t.rank() == 0 || (rows >= 0 && t.batchSize() != rows)) {
        return -1;
      }
      rows = t.batchSize();
    }
    return rows;
  }

  /** The key requests must share to be stacked, or null when this one must run alone. */
  private @Nullable String stackKey(Map<String, Tensor> inputs, int rows) {
    if (!policy.enabled() || !signature.batchable() || rows < 1 || rows >= policy.maxBatchSize()) {
      return null;
    }
    StringBuilder k = new StringBuilder();
    for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
      long[] s = e.getValue().shape();
      k.append(e.getKey()).append(':').append(e.getValue().type().name());
      for (int i = 1; i < s.length; i++) {
        k.append(',').append(s[i]);
      }
      k.append(';');
    }
    return k.toString();
  }

  private void work() {
    try {
      while (true) {
        Job first = aside.isEmpty() ? take() : fromAside();
        if (first == STOP) {
          return;
        }
        List<Job> batch = new ArrayList<>();
        batch.add(first);
        int rows = first.rows;
        if (first.stackKey != null) {
          // first the requests set aside earlier that stack with this one, in arrival order
          for (Iterator<Job> it = aside.iterator();
              it.hasNext() && rows < policy.maxBatchSize(); ) {
            Job j = it.next();
            if (stacks(first, j, rows)) {
              it.remove();
              waiting.decrementAndGet();
              batch.add(j);
              rows += j.rows;
            }
          }
          // then wait for more, until one of another kind arrives: from there on, take only what
          // is already queued, so a batch never waits on account of another shape
          long deadline = System.nanoTime() + policy.maxDelay().toNanos();
          boolean wait = true;
          while (rows < policy.maxBatchSize() && aside.size() < policy.maxBatchSize()) {
            Job next = poll(wait ? deadline - System.nanoTime() : 0);
            if (next == null) {
              break;
            }
            if (stacks(first, next, rows)) {
              batch.add(next);
              rows += next.rows;
              continue;
            }
            setAside(next);
            wait = false;
            if (next == STOP) {
              break;
            }
          }
        }
        run(batch, rows);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Whether {@code next} joins the batch that {@code first} opened, now {@code rows} rows. */
  private boolean stacks(Job first, Job next, int rows) {
    return next != STOP
        && Objects.equals(first.stackKey, next.stackKey)
        && rows + next.rows <= policy.maxBatchSize();
  }

  /**
   * Keeps a request that does not stack with the batch being gathered for a later batch, still
   * counted as waiting; the batch goes on gathering its own kind.
   */
  private void setAside(Job j) {
    if (j != STOP) {
      waiting.incrementAndGet();
    }
    aside.addLast(j);
  }

  private Job fromAside() {
    Job j = aside.removeFirst();
    if (j != STOP) {
      waiting.decrementAndGet();
    }
    return j;
  }

  private Job take() throws InterruptedException {
    Job j = queue.take();
    if (j != STOP) {
      waiting.decrementAndGet();
    }
    return j;
  }

  /** The next job within {@code nanos} (at once, without waiting, when the time is up). */
  private Job poll(long nanos) throws InterruptedException {
    Job j = nanos > 0 ? queue.poll(nanos, TimeUnit.NANOSECONDS) : queue.poll();
    if (j != null && j != STOP) {
      waiting.decrementAndGet();
    }
    return j;
  }

  private void run(List<Job> batch, int rows) {
    if (batch.size() == 1) {
      runAlone(batch.get(0));
      return;
    }
    Map<String, Tensor> stacked = new LinkedHashMap<>();
    for (String name : batch.get(0).inputs.keySet()) {
      stacked.put(name, Tensor.concat(batch.stream().map(j -> j.inputs.get(name)).toList()));
    }
    Set<String> wanted = new LinkedHashSet<>();
    batch.forEach(j -> wanted.addAll(j.outputs));
    Map<String, Tensor> out;
    try {
      out = runner.run(stacked, wanted);
    } catch (RuntimeException e) {
      batch.forEach(this::runAlone);
      return;
    }
    if (out.values().stream().anyMatch(t -> t.rank() == 0 || t.batchSize() != rows)) {
      batch.forEach(this::runAlone);
      return;
    }
    metrics.batch(key, batch.size(), rows);
    int at = 0;
    for (Job j : batch) {
      Map<String, Tensor> mine = new LinkedHashMap<>();
      for (String o : j.outputs) {
        Tensor t = Objects.requireNonNull(out.get(o), () -> "the stacked run computed " + o);
        mine.put(o, t.slice(at, at + j.rows));
      }
      at += j.rows;
      j.result.complete(mine);
    }
  }

  private void runAlone(Job j) {
    try {
      Map<String, Tensor> out = runner.run(j.inputs, j.outputs);
      if (j.counted) {
        metrics.batch(key, 1, Math.max(j.rows, 1));
      }
      j.result.complete(out);
    } catch (RuntimeException e) {
      j.result.completeExceptionally(e);
    }
  }

  /**
   * Stops taking requests, lets the worker finish everything queued (waiting at most {@code
   * timeout}), then closes the runner.
   */
  void stop(Duration timeout) {
    synchronized (this) {
      if (!accepting) {
        return;
      }
      accepting = false;
      queue.add(STOP);
    }
    try {
      worker.join(Math.max(1, timeout.toMillis()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (worker.isAlive()) {
      // Still inside a run past the timeout: closing now would pull the session from under it.
      worker.interrupt();
      return;
    }
    metrics.remove(depthGauge);
    runner.close();
  }
}
