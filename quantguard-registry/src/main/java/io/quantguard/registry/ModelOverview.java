package io.quantguard.registry;

import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

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
    @Nullable Integer production,
    @Nullable Integer canary,
    @JsonSerialize(using = ToStringSerializer.class) Instant createdAt,
    @JsonSerialize(using = ToStringSerializer.class) @Nullable Instant lastChange) {}
