package io.quantguard.report;

/**
 * Averages of per-class scores; see {@code io.quantguard.evaluate.ConfusionMatrix} for the
 * definitions.
 */
public record ClassAverages(
    double macroPrecision,
    double macroRecall,
    double macroF1,
    double microPrecision,
    double microRecall,
    double microF1,
    double weightedPrecision,
    double weightedRecall,
    double weightedF1) {}
