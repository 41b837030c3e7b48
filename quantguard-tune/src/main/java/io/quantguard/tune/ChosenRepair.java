package io.quantguard.tune;

/**
 * A repair the search picked for one node, with the output SQNR the node's group had, quantized
 * alone, before and after it.
 */
public record ChosenRepair(String node, String repair, double beforeDb, double afterDb) {}
