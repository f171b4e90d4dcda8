/**
 * Idempotency records. A request claims its key atomically; the response it
 * produces (2xx or 4xx) is stored with the request's fingerprint for the
 * retention period; a 5xx releases the claim so that a retry runs again.
 */
export interface StoredResponse {
  status: number
  /** The JSON body exactly as sent. */
  body: string
}

/**
 * What becomes of a key once its request is answered. The spec stores 2xx and
 * 4xx and lets a retry run again after a 5xx; a gateway's 5xx is not always
 * the backend's: `store` when the backend did act and only the gateway failed
 * (a retry would move money twice), `release` when the backend surely did
 * nothing (or said it failed), `hold` when nobody knows (a timeout after the
 * request was sent): the key stays claimed until its lock expires, so retries
 * meanwhile get 503, not a second execution.
 */
export type Retention = 'store' | 'release' | 'hold'

export type Claim =
  | { state: 'claimed'; token: string }
  | { state: 'pending'; fingerprint: string }
  /** Its request ended without knowing whether the backend acted (Retention `hold`): refused until the hold lapses. */
  | { state: 'held'; fingerprint: string }
  | { state: 'done'; fingerprint: string; response: StoredResponse }

export interface IdempotencyStore {
  readonly kind: 'memory' | 'redis'
  /** Claims `key` for this request, or reports what holds it. */
  claim(key: string, fingerprint: string): Promise<Claim>
  /** Stores the response of a claim this request holds. */
  complete(key: string, token: string, fingerprint: string, response: StoredResponse): Promise<void>
  /** Gives a claim up (the request failed with a 5xx): the next retry runs. */
  release(key: string, token: string): Promise<void>
  /** Holds a claim this request holds for another full lock period, from now. */
  extend(key: string, token: string): Promise<void>
  /** Turns a claim this request holds into a hold for one lock period: nobody knows whether the backend acted. */
  hold(key: string, token: string): Promise<void>
  /** Resolves when a pending claim may have changed (completed, released or expired). */
  changed(key: string, waitMs: number): Promise<void>
}
