package io.quantguard.tune;

import io.quantguard.quantize.Recipe;

/**
 * The higher precisions a group can fall back to, cheapest first: 8-bit weights (for a recipe whose
 * weights are narrower), then float16 or float32.
 */
enum Fallback {
  INT8_WEIGHTS("int8 weights"),
  FP16("fp16"),
  FP32("fp32");

  private final String label;

  Fallback(String label) {
    this.label = label;
  }

  String label() {
    return label;
  }

  Recipe.Override override(String node, String rationale) {
    return switch (this) {
      case INT8_WEIGHTS ->
          Recipe.Override.node(node)
              .weights(
                  Recipe.Weights.builder().type("int8").symmetric(true).perChannel(true).build())
              .because(rationale);
      case FP16 -> Recipe.Override.node(node).mode(Recipe.Mode.FP16).because(rationale);
      case FP32 -> Recipe.Override.node(node).precision(Recipe.Precision.FP32).because(rationale);
    };
  }
}
