package io.quantguard.quantize;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a recipe will do to a model, known before calibration: every node it quantizes and in which
 * form, and every node of a kind it could quantize that stays in float, with the reason. Users see
 * it before they spend minutes calibrating a model whose convolutions, say, a mode cannot touch.
 *
 * @param quantized the nodes the recipe quantizes, in graph order
 * @param keptInFloat nodes of a kind the recipe's mode handles that stay in float, and why
 * @param notes facts about the plan as a whole (operator types left out of {@code op_types}, and
 *     what the plan still needs, such as calibration data)
 */
public record QuantizationPlan(
    List<Step> quantized, List<QuantizationReport.Skipped> keptInFloat, List<String> notes) {

  /**
   * One quantized node.
   *
   * @param form the operator or pattern it becomes: "QDQ int8", "MatMulIntegerToFloat", ...
   */
  public record Step(String node, String opType, Recipe.Mode mode, String form) {}

  public QuantizationPlan {
    quantized = List.copyOf(quantized);
    keptInFloat = List.copyOf(keptInFloat);
    notes = List.copyOf(notes);
  }

  /** Quantized nodes counted by mode and operator type, e.g. {@code static Conv -> 2}. */
  public Map<String, Integer> countsByModeAndOp() {
    Map<String, Integer> counts = new TreeMap<>();
    for (Step s : quantized) {
      counts.merge(s.mode().spelling() + " " + s.opType(), 1, Integer::sum);
    }
    return counts;
  }
}
