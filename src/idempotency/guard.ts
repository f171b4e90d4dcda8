import { createHash } from 'node:crypto'
import { ERRORS, GatewayError } from '../errors.js'
import type { IdempotencyStore, Retention, StoredResponse } from './store.js'

/**
 * SPEC-README "Idempotency": a retry with the same key and the same request
 * gets exactly the first response (2xx or 4xx) without reaching the backend;
 * the same key with a different request is refused; a 5xx is not kept,
 * unless the work says otherwise (Retention: the backend acted, or may have).
 * Concurrent duplicates wait for the first and share its response.
 */
export interface Outcome extends StoredResponse {
  replayed: boolean
}

/** Keys sorted at every level: the same JSON in another key order is the same request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** One request, whatever its spelling: method, canonical path, decoded query and body value. */
export function fingerprint(method: string, path: string, query: Readonly<Record<string, string>>, body: unknown): string {
  return createHash('sha256').update(`${method} ${path}\n${canonicalJson(query)}\n${canonicalJson(body)}`).digest('base64url')
}

export async function runOnce(
  store: IdempotencyStore,
  key: string,
  print: string,
  waitMs: number,
  work: () => Promise<StoredResponse & { retention?: Retention }>,
): Promise<Outcome> {
  const deadline = Date.now() + waitMs
  for (;;) {
    const claim = await store.claim(key, print)
    if (claim.state !== 'claimed') {
      if (claim.fingerprint !== print) throw new GatewayError(ERRORS.idempotencyKeyReuse)
      if (claim.state === 'done') return { ...claim.response, replayed: true }
      // Nobody knows whether the backend acted: no waiting for it, and no second run while the hold lasts.
      if (claim.state === 'held') throw new GatewayError(ERRORS.idempotencyInProgress)
      if (Date.now() >= deadline) throw new GatewayError(ERRORS.idempotencyInProgress)
      await store.changed(key, deadline - Date.now())
      continue
    }
    let answered: StoredResponse & { retention?: Retention }
    // Held while the work runs, however long that is: a claim that expired under a request still
    // waiting for its backend would let a retry execute it a second time.
    const holding = setInterval(() => store.extend(key, claim.token).catch(() => {}), Math.max(1, Math.floor(waitMs / 3)))
    try {
      answered = await work()
    } catch (err) {
      await store.release(key, claim.token).catch(() => {})
      throw err
    } finally {
      clearInterval(holding)
    }
    const { retention = answered.status >= 500 ? 'release' : 'store', ...response } = answered
    if (retention === 'store') await store.complete(key, claim.token, print, response)
    else if (retention === 'release') await store.release(key, claim.token)
    else await store.hold(key, claim.token).catch(() => {}) // unrecorded, the claim still lapses only after its lock
    return { ...response, replayed: false }
  }
}
