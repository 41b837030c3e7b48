package io.quantguard.registry;

import java.time.Instant;

/**
 * A registered model at a glance.
 *
 * @param production the version in production, or null
 * @param canary the version in canary, or null
 */
public record ModelOverview(
    String name,
    int versions,
    int latest,
    Integer production,
    Integer canary,
    Instant createdAt,
    Instant lastChange) {}
