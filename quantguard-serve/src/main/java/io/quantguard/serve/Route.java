package io.quantguard.serve;

import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Which served versions run one request: the {@code primary} answers the client; the {@code
 * shadow}, when set, runs the same inputs on the side and its outputs go only to the {@link
 * ExchangeObserver}.
 */
public record Route(ModelKey primary, @Nullable ModelKey shadow) {
  public Route {
    if (primary == null) {
      throw new IllegalArgumentException("a route needs a primary version");
    }
    if (primary.equals(shadow)) {
      throw new IllegalArgumentException(primary + " cannot shadow itself");
    }
  }

  public static Route to(ModelKey primary) {
    return new Route(primary, null);
  }

  public Optional<ModelKey> shadowVersion() {
    return Optional.ofNullable(shadow);
  }
}
