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
  /** Whether the store kept what this execution left (its answer, a release or a hold). */
  recorded: boolean
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
      if (claim.state === 'done') return { ...claim.response, replayed: true, recorded: true }
      // Nobody knows whether the backend acted: no waiting for it, and no second run while the hold lasts.
      if (claim.state === 'held') throw new GatewayError(ERRORS.idempotencyInProgress)
      if (Date.now() >= deadline) throw new GatewayError(ERRORS.idempotencyInProgress)
      await store.changed(key, deadline - Date.now())
      continue
    }
    // Held while the work runs and its outcome is recorded, however long that is: a claim that lapsed under
    // a request still waiting for its backend would let a retry execute it a second time. Renewed every fifth
    // of the lock, so a store that cannot answer for up to four fifths of it loses nothing.
    const holding = setInterval(() => store.extend(key, claim.token).catch(() => {}), Math.max(1, Math.floor(waitMs / 5)))
    try {
      let answered: StoredResponse & { retention?: Retention }
      try {
        answered = await work()
      } catch (err) {
        // Work that throws instead of answering failed where nobody can say whether the backend acted: held, not freed.
        await store.hold(key, claim.token).catch(() => {})
        throw err
      }
      const { retention = answered.status >= 500 ? 'release' : 'store', ...response } = answered
      const record = retention === 'store' ? () => store.complete(key, claim.token, print, response) : retention === 'release' ? () => store.release(key, claim.token) : () => store.hold(key, claim.token)
      // The backend has answered: its answer is the client's whether or not the store could keep it (a 503 now
      // would only send a retry after something that happened). Unrecorded, the claim lapses after its lock.
      const recorded = await persistently(record, Date.now() + Math.min(waitMs, RECORD_PATIENCE_MS))
      return { ...response, replayed: false, recorded }
    } finally {
      clearInterval(holding)
    }
  }
}

/** How long an outcome is retried when the store does not take it: a blip rides through, the client waits no longer. */
const RECORD_PATIENCE_MS = 5000

/** `operation` tried until it succeeds or `deadline` passes, backing off from 50 ms to 1 s; whether it succeeded. */
async function persistently(operation: () => Promise<void>, deadline: number): Promise<boolean> {
  for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
    try {
      await operation()
      return true
    } catch {
      if (Date.now() + wait > deadline) return false
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }
}
