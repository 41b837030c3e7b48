package io.quantguard.cli;

import io.quantguard.quantize.QuantizationPlan;
import io.quantguard.quantize.QuantizationReport;
import java.io.PrintWriter;
import java.util.stream.Collectors;

/** Prints a {@link QuantizationPlan} the same way wherever a command shows one. */
final class PlanOutput {
  private PlanOutput() {}

  /** One line: what will be quantized, counted, and how many candidates stay in float. */
  static void summary(PrintWriter out, QuantizationPlan plan) {
    String counts =
        plan.countsByModeAndOp().entrySet().stream()
            .map(e -> e.getKey() + "×" + e.getValue())
            .collect(Collectors.joining(", "));
    out.printf(
        "Plan        %s; %d kept in float%n",
        counts.isEmpty() ? "nothing to quantize" : counts, plan.keptInFloat().size());
  }

  /** The summary, then every node: quantized and in which form, or kept in float and why. */
  static void detail(PrintWriter out, QuantizationPlan plan) {
    summary(out, plan);
    for (QuantizationPlan.Step s : plan.quantized()) {
      out.printf(
          "  quantize  %s (%s): %s, %s%n", s.node(), s.opType(), s.mode().spelling(), s.form());
    }
    for (QuantizationReport.Skipped s : plan.keptInFloat()) {
      out.printf("  float     %s (%s): %s%n", s.node(), s.opType(), s.reason());
    }
    plan.notes().forEach(n -> out.printf("  note      %s%n", n));
  }
}
