package io.quantguard.registry;

/** A stored blob: its content address (SHA-256, hex) and size. */
public record Blob(String sha256, long sizeBytes) {}
