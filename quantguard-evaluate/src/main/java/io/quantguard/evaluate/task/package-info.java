/**
 * The built-in tasks (classification, embedding, retrieval, extractive QA, regression, raw
 * tensors), each registered through a public {@link io.quantguard.evaluate.TaskFactory}; everything
 * else here is package-private.
 */
package io.quantguard.evaluate.task;
