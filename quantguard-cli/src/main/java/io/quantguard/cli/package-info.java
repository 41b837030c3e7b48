/**
 * The {@code quantguard} command line: picocli commands that map flags onto the library's builders
 * and render their results.
 *
 * <p>Entry point: {@link io.quantguard.cli.Main}. {@link io.quantguard.cli.ExitCodes} says what
 * each exit status means; {@link io.quantguard.cli.FlagErrors} turns library errors into messages
 * that name the flag to change.
 */
@NullMarked
package io.quantguard.cli;

import org.jspecify.annotations.NullMarked;
