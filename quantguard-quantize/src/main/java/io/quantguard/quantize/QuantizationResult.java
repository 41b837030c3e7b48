package io.quantguard.quantize;

import io.quantguard.onnx.OnnxModel;

/** A quantized model with the recipe that produced it and the report of what was done. */
public record QuantizationResult(OnnxModel model, Recipe recipe, QuantizationReport report) {}
