package io.quantguard.tune;

/**
 * A repair the search picked for one node (or, as {@link Tuner#EVERY_NODE}, for the whole model),
 * with the output SQNR the node's group had, quantized alone, before and after it.
 */
public record ChosenRepair(String node, Repair repair, double beforeDb, double afterDb) {}
