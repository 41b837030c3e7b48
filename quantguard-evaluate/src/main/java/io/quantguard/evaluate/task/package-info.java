/**
 * The built-in tasks (classification, embedding, retrieval, extractive QA, regression, raw
 * tensors), each registered through a public {@link io.quantguard.evaluate.TaskFactory}; besides
 * {@link io.quantguard.evaluate.task.Pooling}, which drift monitoring shares, and {@link
 * io.quantguard.evaluate.task.CosineTail}, which the server's live comparison shares, everything
 * else here is package-private.
 */
@NullMarked
package io.quantguard.evaluate.task;

import org.jspecify.annotations.NullMarked;
