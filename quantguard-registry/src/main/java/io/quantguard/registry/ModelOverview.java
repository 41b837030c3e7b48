package io.quantguard.registry;

import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
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
    @JsonSerialize(using = ToStringSerializer.class) Instant createdAt,
    @JsonSerialize(using = ToStringSerializer.class) Instant lastChange) {}
