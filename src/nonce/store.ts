/**
 * Replay protection: a nonce is accepted once per credential (`scope`, its id).
 * `claim` records it atomically, to be remembered for `ttlMs`, and says whether
 * it was new. The caller derives `ttlMs` from the request's own timestamp, so a
 * nonce is remembered for as long as its request could be accepted again. A
 * store that cannot answer throws `StoreUnavailableError`: the caller refuses
 * the request (fail closed).
 */
export interface NonceStore {
  readonly kind: 'memory' | 'redis'
  claim(scope: string, nonce: string, ttlMs: number): Promise<boolean>
}

export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StoreUnavailableError'
  }
}
