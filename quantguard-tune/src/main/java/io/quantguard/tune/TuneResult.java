package io.quantguard.tune;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What a tuning run found: the best trial (the passing one with the fewest higher-precision nodes,
 * or, when none passed, the one closest to the policy, with its gaps), the decisions in its recipe
 * and the evidence: the ranking, the repairs, every trial (the trade-off curve).
 *
 * @param passed whether the best recipe meets the policy
 * @param training what quantization-aware training did and its measured effect; null when it was
 *     not a repair or not needed
 * @param evaluations full evaluations spent (trials), against {@code budget}
 */
public record TuneResult(
    String model,
    String policy,
    boolean passed,
    Trial best,
    List<Decision> decisions,
    List<RankedGroup> ranking,
    List<Trial> trials,
    List<ChosenRepair> repairs,
    @Nullable Boolean repairsAdopted,
    @Nullable TrainingOutcome training,
    int evaluations,
    int budget,
    double seconds) {
  public TuneResult {
    decisions = List.copyOf(decisions);
    ranking = List.copyOf(ranking);
    trials = List.copyOf(trials);
    repairs = List.copyOf(repairs);
  }
}
