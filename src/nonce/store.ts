/**
 * Replay protection: a nonce is accepted once per credential (`scope`, its id). `claim` records it
 * atomically and says whether it was new. A store that cannot answer throws
 * `StoreUnavailableError`: the caller refuses the request (fail closed).
 */
export interface NonceStore {
  readonly kind: 'memory' | 'redis'
  claim(scope: string, nonce: string): Promise<boolean>
}

export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StoreUnavailableError'
  }
}
