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

/** A client connection, as far as Unproven needs one. */
export interface Connection {
  readonly destroyed: boolean
  once(event: 'close', listener: () => void): unknown
}

/**
 * Requests from each source address still in flight and not yet proven. A
 * refusal counts against its address only once it is answered, so a burst
 * sent all at once (pipelined on one connection, or one request on each of
 * many) would find the budget as it was before the burst: the requests in
 * flight are held against what remains of it. Per process, so N processes
 * (workers or replicas) let at most N bursts of the remaining budget through.
 * Places are held by connection too: whatever a connection's requests still
 * hold when it closes is given back, whatever state they were in (a request
 * whose client left while the store was asked gets no answer, and so no
 * onResponse, to release it).
 */
export class Unproven {
  private readonly counts = new Map<string, number>()
  private readonly byConnection = new WeakMap<Connection, Map<string, number>>()

  of(address: string): number {
    return this.counts.get(address) ?? 0
  }

  /** Holds a place for a request from `address` on `connection`; false when the connection is gone already. */
  hold(address: string, connection: Connection): boolean {
    if (connection.destroyed) return false
    let held = this.byConnection.get(connection)
    if (!held) {
      const fresh = new Map<string, number>()
      held = fresh
      this.byConnection.set(connection, fresh)
      connection.once('close', () => {
        for (const [heldFor, count] of fresh) this.change(heldFor, -count)
        fresh.clear()
      })
    }
    held.set(address, (held.get(address) ?? 0) + 1)
    this.change(address, 1)
    return true
  }

  /** Gives back a place held for `address` on `connection` (nothing when its closing gave it back already). */
  release(address: string, connection: Connection): void {
    const held = this.byConnection.get(connection)
    const count = held?.get(address) ?? 0
    if (count === 0) return
    if (count === 1) held?.delete(address)
    else held?.set(address, count - 1)
    this.change(address, -1)
  }

  private change(address: string, by: number): void {
    const count = this.of(address) + by
    if (count > 0) this.counts.set(address, count)
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
