import type { RedisClient } from '../redis.js'
import { StoreUnavailableError, type NonceStore } from './store.js'

/**
 * Shared by every replica: `SET key 1 PX ttl NX` records the nonce and reports
 * whether it was new in one atomic command. The TTL is relative, so Redis's
 * own clock plays no part.
 */
export class RedisNonceStore implements NonceStore {
  readonly kind = 'redis'

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = 'nlgw:nonce:',
  ) {}

  async claim(scope: string, nonce: string, ttlMs: number): Promise<boolean> {
    try {
      return (await this.redis.set(`${this.prefix}${scope}:${nonce}`, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK'
    } catch (err) {
      throw new StoreUnavailableError(`Redis nonce store unavailable: ${(err as Error).message}`, { cause: err })
    }
  }
}
