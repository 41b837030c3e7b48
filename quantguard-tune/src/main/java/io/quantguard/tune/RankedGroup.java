package io.quantguard.tune;

import java.util.List;

/**
 * A unit of fallback (nodes that change precision together) and how sensitive it is: the SQNR of
 * the model's outputs against FP32 when only this group is quantized, on the ranking samples. Lower
 * is more sensitive.
 */
public record RankedGroup(List<String> nodes, String opType, double outputSqnrDb) {
  public RankedGroup {
    nodes = List.copyOf(nodes);
  }
}
