package io.quantguard.tune;

import io.quantguard.quantize.Recipe;
import java.util.Collection;
import java.util.List;

/** The recipes sensitivity analysis measures: one node (or group) quantized, or one left out. */
final class RecipeEdits {
  private RecipeEdits() {}

  /**
   * The recipe with only {@code keep} of the planned nodes {@code all} quantized (the others
   * excluded), as sensitivity analysis measures one node or group at a time.
   */
  static Recipe only(Recipe base, Collection<String> keep, List<String> all) {
    return base.resolved().toBuilder()
        .addExclude(all.stream().filter(n -> !keep.contains(n)).toList())
        .build();
  }

  /** The recipe with {@code node} left in float and everything else as it was. */
  static Recipe without(Recipe base, String node) {
    return base.resolved().toBuilder().addExclude(List.of(node)).build();
  }
}
