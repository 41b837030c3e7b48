package io.quantguard.evaluate.task;

import java.util.List;

/**
 * The chosen output tensors of one batch, each flattened per row.
 *
 * @param values per output, row-major [rows, width]
 * @param widths per output, elements per row
 */
record RawOutputs(List<float[]> values, int[] widths, int rows) {}
