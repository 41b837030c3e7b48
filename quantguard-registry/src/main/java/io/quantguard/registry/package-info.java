/**
 * The model registry, without ONNX Runtime: versions with lineage, stages, policies and a change
 * log over a content-addressed blob store.
 *
 * <p>Entry points: {@link io.quantguard.registry.Registry} (opened on SQLite or PostgreSQL; {@link
 * io.quantguard.registry.Registration} adds a version, {@link io.quantguard.registry.ArtifactRef}
 * such as {@code MODEL@production} resolves one to an {@link
 * io.quantguard.registry.ArtifactVersion}) and {@link io.quantguard.registry.BlobStore} with its
 * file implementation {@link io.quantguard.registry.FileBlobStore}.
 */
@NullMarked
package io.quantguard.registry;

import org.jspecify.annotations.NullMarked;
