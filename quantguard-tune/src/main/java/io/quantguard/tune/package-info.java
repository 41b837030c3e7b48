/**
 * Tuning: which layers are sensitive to quantization, and mixed precision that keeps only those in
 * higher precision.
 */
package io.quantguard.tune;
