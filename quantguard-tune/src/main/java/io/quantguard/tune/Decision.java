package io.quantguard.tune;

import java.util.List;

/**
 * What the search did to a group of nodes and the measurement that justified it, as it appears in
 * the tuned recipe's rationale and the tuning report.
 *
 * @param action {@code repair: ...}, {@code fallback: int8 weights}, {@code fallback: fp32}, ...
 * @param evidence the numbers behind it (SQNR alone, the policy's verdict with and without)
 */
public record Decision(List<String> nodes, String action, String evidence) {
  public Decision {
    nodes = List.copyOf(nodes);
  }
}
