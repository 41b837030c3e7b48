package io.quantguard.quantize;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * How recipes spell the constants of the enums they name (modes, precisions, weight methods,
 * algorithms, formats): the constant's name in lower case with hyphens, {@code WEIGHT_ONLY} as
 * {@code weight-only}. One rule, so the YAML vocabulary and the enums cannot drift apart.
 */
final class Spelling {
  private Spelling() {}

  static String of(Enum<?> constant) {
    return constant.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** The constant spelled {@code text} exactly, if there is one. */
  static <E extends Enum<E>> Optional<E> find(Class<E> type, String text) {
    return Arrays.stream(type.getEnumConstants()).filter(c -> of(c).equals(text)).findFirst();
  }

  /** The constant spelled {@code text}, else an error that lists the valid spellings. */
  static <E extends Enum<E>> E parse(Class<E> type, String text) {
    return find(type, text)
        .orElseThrow(
            () -> new IllegalArgumentException("'" + text + "' is not one of " + all(type)));
  }

  /** Every spelling, in declaration order, comma-separated. */
  static String all(Class<? extends Enum<?>> type) {
    return Arrays.stream(type.getEnumConstants())
        .map(Spelling::of)
        .collect(Collectors.joining(", "));
  }
}
