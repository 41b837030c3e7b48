package io.quantguard.evaluate.task;

/** Extracted answers of one batch: per row the token span [start, end] (inclusive) and its text. */
record Spans(int[] start, int[] end, String[] text) {}
