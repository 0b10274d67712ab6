// SPDX-License-Identifier: AGPL-3.0-or-later
// The browser tests' waitUntil: @open-wc/testing's, with a deadline a loaded 2-core CI machine
// meets. Its own default gives a condition 1 s, and a render, a lit update or a virtualizer
// layout in a Chromium that shares two cores with vitest workers and other builds can take longer;
// the wait still returns as soon as the condition holds, so a passing test is no slower.
import { waitUntil as openWcWaitUntil } from '@open-wc/testing';

/** Default deadline of a condition, ms (well inside the 30 s a test may take, web-test-runner.config.mjs). */
export const WAIT_MS = 10_000;

/** Polls `predicate` every 50 ms until it is truthy; rejects with `message` after `timeout` (default {@link WAIT_MS}). */
export function waitUntil(predicate: () => unknown, message?: string, options: { interval?: number; timeout?: number } = {}): Promise<void> {
  return openWcWaitUntil(predicate, message, { timeout: WAIT_MS, ...options });
}
