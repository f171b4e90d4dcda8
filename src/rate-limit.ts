import type { ErrorSpec } from './errors.js'

/**
 * Which answers count against a source address's budget of refusals (to slow
 * down key guessing and probing): those the gateway refused (4xx) before the
 * caller had proven its credential. A 5xx is the gateway's fault, a refusal
 * after authentication is the credential's (its own budget covers that), and
 * a rate-limit or allow-list refusal is already the brake itself.
 */
export function countsAgainstAddress(refusal: ErrorSpec | null, authenticated: boolean): boolean {
  return refusal !== null && !authenticated && refusal.status >= 400 && refusal.status < 500 && refusal.kind !== 'rate' && refusal.kind !== 'source'
}

/**
 * Requests from each source address still in flight and not yet proven. A
 * refusal counts against its address only once it is answered, so a burst
 * sent all at once (pipelined on one connection, or one request on each of
 * many) would find the budget as it was before the burst: the requests in
 * flight are held against what remains of it. Per process, so N processes
 * (workers or replicas) let at most N bursts of the remaining budget through.
 */
export class Unproven {
  private readonly counts = new Map<string, number>()

  of(address: string): number {
    return this.counts.get(address) ?? 0
  }

  add(address: string): void {
    this.counts.set(address, this.of(address) + 1)
  }

  remove(address: string): void {
    const left = this.of(address) - 1
    if (left > 0) this.counts.set(address, left)
    else this.counts.delete(address)
  }
}

/** Keys in the shared store: a credential id may look like an address, so each budget has its own prefix. */
export const limitKeys = {
  credential: (id: string) => `c:${id}`,
  burst: (id: string) => `b:${id}`,
  address: (address: string) => `a:${address}`,
}

/** The burst budget's window: `perCredential.burst` requests in any one second (fixed windows). */
export const BURST_WINDOW_MS = 1000
