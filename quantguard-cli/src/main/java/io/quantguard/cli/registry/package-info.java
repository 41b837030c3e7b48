/**
 * {@code quantguard registry}: the registry's subcommands (register, show, list, promote, rollback,
 * lineage, log, export, reproduce, policy), rendering {@link io.quantguard.registry.Registry}
 * results as text or JSON.
 *
 * <p>Entry point: {@link io.quantguard.cli.registry.RegistryCommand}, with the options every
 * subcommand shares in {@link io.quantguard.cli.registry.StoreOptions} and {@link
 * io.quantguard.cli.registry.ActorOption}.
 */
@NullMarked
package io.quantguard.cli.registry;

import org.jspecify.annotations.NullMarked;
