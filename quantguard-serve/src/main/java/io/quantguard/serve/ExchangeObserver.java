package io.quantguard.serve;

/**
 * The observation hook: sees every request whose inputs decoded and were routed, after its primary
 * and shadow outcomes are known. It runs on the server's single observer thread, off the request
 * path, so a slow observer delays only other observations; when 1,024 observations are waiting,
 * further ones are dropped and counted ({@code quantguard_observations_dropped_total}).
 */
@FunctionalInterface
public interface ExchangeObserver {
  void observe(Exchange exchange);
}
