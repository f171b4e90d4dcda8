/**
 * Polls `check` until it returns something other than undefined/false, or throws after `timeoutMs`;
 * `what` names the condition in that error (a function: read when it throws, to report the last state seen).
 */
export async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, { timeoutMs = 5000, everyMs = 10, what = 'condition' as string | (() => string) } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`${typeof what === 'function' ? what() : what} not reached within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
