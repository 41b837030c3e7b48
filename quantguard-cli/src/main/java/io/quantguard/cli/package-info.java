/**
 * The {@code quantguard} command line: picocli commands that map flags onto the library's builders
 * and render their results.
 *
 * <p>Entry point: {@link io.quantguard.cli.Main}. {@link io.quantguard.cli.ExitCodes} says what
 * each exit status means. Library errors carry a stable parameter key where a setting is at fault;
 * {@code ParameterFlags} names the flag that sets it instead, so the message says what to change.
 */
@NullMarked
package io.quantguard.cli;

import org.jspecify.annotations.NullMarked;
