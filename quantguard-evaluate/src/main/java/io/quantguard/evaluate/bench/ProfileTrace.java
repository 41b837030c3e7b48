package io.quantguard.evaluate.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.InvalidInputException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the Chrome trace ONNX Runtime's profiler writes: a JSON array of events, where each run of
 * the session is a {@code Session}/{@code model_run} event and each node's kernel a {@code
 * Node}/{@code <node>_kernel_time} event with its operator type ({@code args.op_name}) and input
 * types ({@code args.input_type_shape}); durations in microseconds. Kernel events of the first
 * {@code skip} runs (warm-up: first-run allocations) are left out.
 *
 * <p>A node's time per run is its fastest kernel time times its calls per run, not the mean or the
 * median: on a busy machine a kernel longer than the scheduler's time slice is descheduled in most
 * calls, a short one in few, so the typical times favour short kernels; the fastest call is what
 * the node costs when nothing else takes the core, which is what a quiet machine shows.
 */
final class ProfileTrace {
  private static final String KERNEL = "_kernel_time";

  private ProfileTrace() {}

  /** Kernel times of one node over the runs counted. */
  private static final class NodeTimes {
    final String opType;
    final OperatorProfile.Arithmetic arithmetic;
    final List<Double> micros = new ArrayList<>();

    NodeTimes(String opType, OperatorProfile.Arithmetic arithmetic) {
      this.opType = opType;
      this.arithmetic = arithmetic;
    }

    /** Fastest kernel time × calls per run, in µs. */
    double perRun(int runs) {
      double fastest = micros.stream().mapToDouble(Double::doubleValue).min().orElse(0);
      return fastest * micros.size() / runs;
    }
  }

  /** Time and nodes of one operator type. */
  private static final class TypeSum {
    OperatorProfile.Arithmetic arithmetic;
    double micros;
    int nodes;

    TypeSum(OperatorProfile.Arithmetic arithmetic) {
      this.arithmetic = arithmetic;
    }
  }

  static OperatorProfile read(Path trace, String model, int batchSize, int skip) {
    JsonNode events;
    try {
      events = new ObjectMapper().readTree(trace.toFile());
    } catch (IOException e) {
      throw new InvalidInputException(
          trace.toString(),
          "is not a readable ONNX Runtime profile: " + e.getMessage(),
          "profile again",
          e);
    }
    return summarize(events, model, batchSize, skip, trace.toString());
  }

  static OperatorProfile summarize(
      JsonNode events, String model, int batchSize, int skip, String source) {
    if (events == null || !events.isArray()) {
      throw new InvalidInputException(
          source, "is not a JSON array of trace events", "profile again");
    }
    List<double[]> runs = new ArrayList<>(); // [start, end] in µs
    for (JsonNode e : events) {
      if (e.path("cat").asText().equals("Session") && e.path("name").asText().equals("model_run")) {
        double ts = e.path("ts").asDouble();
        runs.add(new double[] {ts, ts + e.path("dur").asDouble()});
      }
    }
    runs.sort(Comparator.comparingDouble(r -> r[0]));
    List<double[]> counted = runs.subList(Math.min(skip, runs.size()), runs.size());
    if (counted.isEmpty()) {
      throw new InvalidInputException(
          source,
          "records " + runs.size() + " runs, none after the " + skip + " warm-up runs",
          "profile more runs");
    }
    Map<String, NodeTimes> nodes = new LinkedHashMap<>();
    for (JsonNode e : events) {
      String name = e.path("name").asText();
      if (!e.path("cat").asText().equals("Node") || !name.endsWith(KERNEL)) {
        continue;
      }
      double ts = e.path("ts").asDouble();
      if (!within(counted, ts)) {
        continue;
      }
      JsonNode args = e.path("args");
      String opType = args.path("op_name").asText("?");
      List<String> types = new ArrayList<>();
      for (JsonNode input : args.path("input_type_shape")) {
        input.fieldNames().forEachRemaining(types::add);
      }
      String node = name.substring(0, name.length() - KERNEL.length());
      nodes
          .computeIfAbsent(
              node, k -> new NodeTimes(opType, OperatorProfile.Arithmetic.of(opType, types)))
          .micros
          .add(e.path("dur").asDouble());
    }
    int n = counted.size();
    double total = nodes.values().stream().mapToDouble(t -> t.perRun(n)).sum();
    double[] byArithmetic = new double[OperatorProfile.Arithmetic.values().length];
    Map<String, TypeSum> byType = new LinkedHashMap<>();
    List<OperatorProfile.Operator> nodeRows = new ArrayList<>();
    for (Map.Entry<String, NodeTimes> e : nodes.entrySet()) {
      NodeTimes s = e.getValue();
      double micros = s.perRun(n);
      byArithmetic[s.arithmetic.ordinal()] += micros;
      TypeSum t = byType.computeIfAbsent(s.opType, k -> new TypeSum(s.arithmetic));
      t.micros += micros;
      t.nodes++;
      // A type whose nodes differ (Gather of embeddings and of shapes) is labelled by the first
      // of integer, conversion, float, other among them.
      if (s.arithmetic.compareTo(t.arithmetic) < 0) {
        t.arithmetic = s.arithmetic;
      }
      nodeRows.add(
          new OperatorProfile.Operator(
              e.getKey(), s.opType, s.arithmetic, 1, micros / 1000, share(micros, total)));
    }
    List<OperatorProfile.Operator> typeRows = new ArrayList<>();
    for (Map.Entry<String, TypeSum> e : byType.entrySet()) {
      TypeSum t = e.getValue();
      typeRows.add(
          new OperatorProfile.Operator(
              e.getKey(),
              e.getKey(),
              t.arithmetic,
              t.nodes,
              t.micros / 1000,
              share(t.micros, total)));
    }
    Comparator<OperatorProfile.Operator> slowest =
        Comparator.comparingDouble(OperatorProfile.Operator::msPerRun).reversed();
    typeRows.sort(slowest);
    nodeRows.sort(slowest);
    return new OperatorProfile(
        model,
        batchSize,
        n,
        total / 1000,
        typeRows,
        nodeRows.subList(0, Math.min(OperatorProfile.TOP_NODES, nodeRows.size())),
        share(byArithmetic[OperatorProfile.Arithmetic.FLOAT.ordinal()], total),
        share(byArithmetic[OperatorProfile.Arithmetic.INTEGER.ordinal()], total),
        share(byArithmetic[OperatorProfile.Arithmetic.CONVERSION.ordinal()], total));
  }

  private static boolean within(List<double[]> runs, double ts) {
    for (double[] r : runs) {
      if (ts >= r[0] && ts <= r[1]) {
        return true;
      }
    }
    return false;
  }

  private static double share(double part, double total) {
    return total > 0 ? part / total : 0;
  }
}
