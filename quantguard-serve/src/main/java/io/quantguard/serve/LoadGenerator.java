package io.quantguard.serve;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantguard.evaluate.bench.LatencyHistogram;
import io.quantguard.evaluate.bench.LatencyStats;
import io.quantguard.onnx.DataType;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSource;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;

/**
 * A load generator for an inference endpoint: {@code clients} threads over HTTP/1.1 keep-alive
 * connections, for a warm-up and then a measured duration. Closed loop by default: each client
 * sends its next request as soon as the previous answer is in, which finds the throughput. With a
 * {@linkplain Plan#rate rate} the load is open: the clients send on a fixed schedule that adds up
 * to that many requests per second, and a request's latency counts from when the schedule meant it
 * to leave, not from when a client held up by a slow answer could send it (the correction for
 * coordinated omission that wrk2 makes), so the latency added at a given load is measured, not the
 * latency of a saturated server. Each client records the latency of its answered requests in its
 * own {@link LatencyHistogram}; the histograms are merged at the end, so percentiles are exact to
 * HdrHistogram's 0.1 %. Throughput is the requests answered as expected in the measured window,
 * divided by its length.
 *
 * <p>Every call says which status it expects, so a mix of good and deliberately bad requests checks
 * that the bad ones get their 4xx and the good ones all succeed.
 */
public final class LoadGenerator {
  private static final int TIMEOUT_MILLIS = 60_000;

  private LoadGenerator() {}

  /** One request, sent in turn with the others, and the status the server should answer. */
  public record Call(RequestBody body, int expectedStatus) {}

  /**
   * What to send: the calls are spread over the clients round robin.
   *
   * @param pause how long each client waits after an answer before its next request (think time;
   *     zero for a client that sends as fast as it is answered): a light, steady load
   * @param rate requests per second that all clients together send on schedule (open loop); 0 for a
   *     closed loop
   */
  public record Plan(
      URI uri,
      List<Call> calls,
      int clients,
      Duration warmup,
      Duration duration,
      Duration pause,
      double rate) {
    public Plan {
      calls = List.copyOf(calls);
      if (calls.isEmpty() || clients < 1 || pause.isNegative()) {
        throw new IllegalArgumentException(
            "a plan needs calls, at least one client and no negative pause");
      }
      if (!(rate >= 0) || Double.isInfinite(rate) || (rate > 0 && !pause.isZero())) {
        throw new IllegalArgumentException(
            "a rate must be finite and not negative, and a scheduled load has no pause: " + rate);
      }
    }

    /** Clients that wait {@code pause} after each answer. */
    public Plan(
        URI uri,
        List<Call> calls,
        int clients,
        Duration warmup,
        Duration duration,
        Duration pause) {
      this(uri, calls, clients, warmup, duration, pause, 0);
    }

    /** Clients that send as fast as they are answered. */
    public Plan(URI uri, List<Call> calls, int clients, Duration warmup, Duration duration) {
      this(uri, calls, clients, warmup, duration, Duration.ZERO, 0);
    }

    /** {@code clients} that together send {@code rate} requests per second on schedule. */
    public static Plan atRate(
        URI uri, List<Call> calls, int clients, Duration warmup, Duration duration, double rate) {
      if (!(rate > 0)) {
        throw new IllegalArgumentException("a scheduled load needs a positive rate: " + rate);
      }
      return new Plan(uri, calls, clients, warmup, duration, Duration.ZERO, rate);
    }
  }

  /**
   * The measured window's figures.
   *
   * @param ok requests answered with the expected success status
   * @param unexpected answers with another status than expected, or no answer (I/O failure)
   * @param statuses answers by HTTP status (-1: no answer)
   * @param latency of the requests answered as expected with a 2xx status
   * @param firstUnexpected up to five descriptions of unexpected answers
   */
  public record Result(
      int clients,
      long requests,
      long ok,
      long unexpected,
      Map<Integer, Long> statuses,
      double seconds,
      LatencyStats latency,
      List<String> firstUnexpected) {
    /** Good requests per second. */
    public double throughput() {
      return ok / seconds;
    }
  }

  /** Runs a plan and returns the figures of its measured window. */
  public static Result run(Plan plan) {
    long start = System.nanoTime() + Duration.ofMillis(50).toNanos();
    long measureFrom = start + plan.warmup().toNanos();
    long end = measureFrom + plan.duration().toNanos();
    List<Client> clients = new ArrayList<>();
    CountDownLatch done = new CountDownLatch(plan.clients());
    for (int i = 0; i < plan.clients(); i++) {
      Client c = new Client(plan, i, start, measureFrom, end, done);
      clients.add(c);
      Thread t = new Thread(c, "quantguard-load-" + i);
      t.setDaemon(true);
      t.start();
    }
    try {
      done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while the load ran", e);
    }
    LatencyHistogram latency = new LatencyHistogram();
    Map<Integer, Long> statuses = new TreeMap<>();
    long requests = 0;
    long ok = 0;
    long unexpected = 0;
    List<String> firstUnexpected = new ArrayList<>();
    for (Client c : clients) {
      latency.merge(c.latency);
      c.statuses.forEach((k, v) -> statuses.merge(k, v, Long::sum));
      requests += c.requests;
      ok += c.ok;
      unexpected += c.unexpected;
      c.firstUnexpected.stream().limit(5 - firstUnexpected.size()).forEach(firstUnexpected::add);
    }
    return new Result(
        plan.clients(),
        requests,
        ok,
        unexpected,
        Collections.unmodifiableMap(statuses),
        plan.duration().toNanos() / 1e9,
        latency.stats(),
        List.copyOf(firstUnexpected));
  }

  private static final class Client implements Runnable {
    private final Plan plan;
    private final int index;
    private final long start;
    private final long measureFrom;
    private final long end;
    private final CountDownLatch done;
    final LatencyHistogram latency = new LatencyHistogram();
    final Map<Integer, Long> statuses = new TreeMap<>();
    final List<String> firstUnexpected = new ArrayList<>();
    long requests;
    long ok;
    long unexpected;

    Client(Plan plan, int index, long start, long measureFrom, long end, CountDownLatch done) {
      this.plan = plan;
      this.index = index;
      this.start = start;
      this.measureFrom = measureFrom;
      this.end = end;
      this.done = done;
    }

    @Override
    public void run() {
      int n = plan.calls().size();
      byte[][] heads = new byte[n][];
      // on schedule: this client's requests leave every `interval`, the clients staggered evenly
      double interval = plan.rate() > 0 ? 1e9 * plan.clients() / plan.rate() : 0;
      try (LoadConnection connection = new LoadConnection(plan.uri(), TIMEOUT_MILLIS)) {
        for (long k = 0; ; k++) {
          long sent =
              interval > 0
                  ? start + (long) ((k + (double) index / plan.clients()) * interval)
                  : System.nanoTime();
          if (sent >= end) {
            return;
          }
          for (long wait = sent - System.nanoTime(); wait > 0; wait = sent - System.nanoTime()) {
            LockSupport.parkNanos(wait);
          }
          int at = (int) ((index + k * plan.clients()) % n);
          Call call = plan.calls().get(at);
          if (heads[at] == null) {
            heads[at] = connection.head(call.body().headers(), call.body().bytes().length);
          }
          int status;
          byte[] body;
          try {
            LoadConnection.Answer a = connection.post(heads[at], call.body().bytes());
            status = a.status();
            body = a.body();
          } catch (IOException e) {
            status = -1;
            body = e.toString().getBytes(StandardCharsets.UTF_8);
          }
          long nanos = System.nanoTime() - sent;
          if (!plan.pause().isZero()) {
            Thread.sleep(plan.pause().toMillis(), plan.pause().toNanosPart() % 1_000_000);
          }
          if (sent < measureFrom) {
            continue;
          }
          requests++;
          statuses.merge(status, 1L, Long::sum);
          if (status != call.expectedStatus()) {
            unexpected++;
            if (firstUnexpected.size() < 5) {
              firstUnexpected.add(
                  "expected "
                      + call.expectedStatus()
                      + ", got "
                      + status
                      + ": "
                      + abbreviate(new String(body, StandardCharsets.UTF_8)));
            }
          } else if (status / 100 == 2) {
            ok++;
            latency.add(nanos);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        done.countDown();
      }
    }
  }

  private static String abbreviate(String s) {
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }

  /**
   * {@code count} requests of random inputs for a served model, shaped from its metadata ({@code
   * GET /v2/models/NAME}): the first dimension {@code rows} when free, every other free dimension
   * {@code freeDim}; floats uniform in [0, 1), integers in [0, 100), seeded.
   */
  public static List<RequestBody> randomRequests(
      URI modelUrl, int count, int rows, int freeDim, boolean binary, long seed) {
    JsonNode meta = metadata(modelUrl);
    SplittableRandom random = new SplittableRandom(seed);
    List<RequestBody> out = new ArrayList<>();
    for (int r = 0; r < count; r++) {
      Map<String, Tensor> inputs = new LinkedHashMap<>();
      for (JsonNode in : meta.path("inputs")) {
        long[] shape = new long[in.path("shape").size()];
        for (int i = 0; i < shape.length; i++) {
          long d = in.path("shape").get(i).asLong();
          shape[i] = d >= 0 ? d : i == 0 ? rows : freeDim;
        }
        String datatype = in.path("datatype").asText();
        DataType type =
            OipDatatype.parse(datatype)
                .filter(OipDatatype::feedable)
                .orElseThrow(
                    () ->
                        new InvalidInputException(
                            modelUrl.toString(),
                            "input '" + in.path("name").asText() + "' is " + datatype,
                            "benchmark models whose inputs this server can feed"))
                .onnx();
        inputs.put(in.path("name").asText(), random(type, shape, random));
      }
      String id = "load-" + r;
      out.add(binary ? RequestBody.binary(id, inputs, true) : RequestBody.json(id, inputs));
    }
    return out;
  }

  /**
   * Requests of real samples for a served model, {@code rows} samples each in the data's order, at
   * most {@code max} of them (the load cycles through them). Inputs are matched by name with the
   * model's metadata; inputs the model does not take are left out, and one it needs that the data
   * lacks is refused here, before any load, rather than as thousands of 400s. Random inputs put
   * token ids and type ids out of a text model's range, so text models need this.
   *
   * @throws InvalidInputException (parameter {@code load.data}) when the data lacks an input or has
   *     fewer than {@code rows} samples
   */
  public static List<RequestBody> dataRequests(
      URI modelUrl, DataSource data, int rows, int max, boolean binary) {
    if (max < 1) {
      throw new IllegalArgumentException("max must be positive: " + max);
    }
    if (rows < 1) {
      throw InvalidInputException.forParameter(
          "load.rows", rows, "must be positive", "send at least one sample per request");
    }
    List<String> names = new ArrayList<>();
    metadata(modelUrl).path("inputs").forEach(in -> names.add(in.path("name").asText()));
    List<RequestBody> out = new ArrayList<>();
    try (BatchStream batches = data.open(rows)) {
      while (batches.hasNext() && out.size() < max) {
        Batch b = batches.next();
        if (b.size() < rows) {
          break; // the short tail: every request carries the same number of samples
        }
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        for (String name : names) {
          Tensor t = b.inputs().get(name);
          if (t == null) {
            throw InvalidInputException.forParameter(
                "load.data",
                data.name(),
                "has no input '" + name + "' (it has " + b.inputs().keySet() + ")",
                "give data whose inputs the model " + modelUrl + " takes by name");
          }
          inputs.put(name, t);
        }
        String id = "load-" + out.size();
        out.add(binary ? RequestBody.binary(id, inputs, true) : RequestBody.json(id, inputs));
      }
    }
    if (out.isEmpty()) {
      throw InvalidInputException.forParameter(
          "load.data",
          data.name(),
          "has fewer than " + rows + " samples, not one request's worth",
          "raise the data's limit or send fewer samples per request");
    }
    return out;
  }

  private static Tensor random(DataType type, long[] shape, SplittableRandom random) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    int count = Math.toIntExact(n);
    switch (type) {
      case FLOAT -> {
        float[] f = new float[count];
        for (int i = 0; i < count; i++) {
          f[i] = (float) random.nextDouble();
        }
        return Tensor.ofFloats(f, shape);
      }
      case INT64 -> {
        long[] l = new long[count];
        for (int i = 0; i < count; i++) {
          l[i] = random.nextInt(100);
        }
        return Tensor.ofLongs(l, shape);
      }
      case INT32 -> {
        int[] v = new int[count];
        for (int i = 0; i < count; i++) {
          v[i] = random.nextInt(100);
        }
        return Tensor.ofInts(v, shape);
      }
      default -> {
        byte[] b = new byte[count];
        for (int i = 0; i < count; i++) {
          b[i] = (byte) random.nextInt(type == DataType.BOOL ? 2 : 100);
        }
        return Tensor.ofBytes(type, b, shape);
      }
    }
  }

  private static JsonNode metadata(URI modelUrl) {
    try {
      HttpResponse<byte[]> r =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(modelUrl).timeout(Duration.ofSeconds(30)).GET().build(),
                  HttpResponse.BodyHandlers.ofByteArray());
      if (r.statusCode() != 200) {
        throw new InvalidInputException(
            modelUrl.toString(),
            "answered "
                + r.statusCode()
                + ": "
                + new String(r.body(), java.nio.charset.StandardCharsets.UTF_8),
            "check the server URL and the model name");
      }
      return OipCodec.JSON.readTree(r.body());
    } catch (IOException e) {
      throw new InvalidInputException(
          modelUrl.toString(), "cannot be reached: " + e, "start the server first", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
