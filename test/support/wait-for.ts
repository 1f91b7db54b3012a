// Waiting for a condition in tests that drive real processes: poll until `fn` yields a value, instead of
// sleeping for a guessed time.

/** Polls `fn` every `intervalMs` until it resolves to something other than undefined (errors count as not yet). */
export async function waitFor<T>(
  fn: () => Promise<T | undefined>,
  what: string,
  { timeoutMs = 60_000, intervalMs = 200 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
