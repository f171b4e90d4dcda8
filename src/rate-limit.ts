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

/** Keys in the shared store: a credential id may look like an address, so each budget has its own prefix. */
export const limitKeys = {
  credential: (id: string) => `c:${id}`,
  burst: (id: string) => `b:${id}`,
  address: (address: string) => `a:${address}`,
}

/** The burst budget's window: `perCredential.burst` requests in any one second (fixed windows). */
export const BURST_WINDOW_MS = 1000
