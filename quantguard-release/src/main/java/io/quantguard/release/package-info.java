/**
 * Workflows that span the registry, the quantizer and the evaluation, as library calls the command
 * line, a scheduler or a serving process share.
 *
 * <p>Entry points: {@link io.quantguard.release.Reproducer#reproduce} (rebuild a registered version
 * from its parent and recorded recipe and compare bytes) and {@link io.quantguard.release.Audit}
 * (re-evaluate a registered version on current data, judge a policy, record the outcome).
 */
@NullMarked
package io.quantguard.release;

import org.jspecify.annotations.NullMarked;
