package io.quantguard.evaluate;

/** Averages of per-class scores; see {@link ConfusionMatrix} for the definitions. */
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
