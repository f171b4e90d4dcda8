import type { RedisWriter } from '../redis-writes.js'
import { StoreUnavailableError, type NonceStore } from './store.js'

/**
 * Shared by every replica: `SET key 1 PX ttl NX` records the nonce and reports
 * whether it was new in one atomic command. The TTL is relative, so Redis's
 * own clock plays no part. The writer decides when the claim counts: on the
 * primary alone, or once a replica has it (`redis.durability`).
 */
export class RedisNonceStore implements NonceStore {
  readonly kind = 'redis'

  constructor(
    private readonly writer: RedisWriter,
    private readonly prefix = 'nlgw:nonce:',
  ) {}

  async claim(scope: string, nonce: string, ttlMs: number): Promise<boolean> {
    try {
      // The nonce percent-encoded: a `{…}` in it would otherwise pick the key's Cluster slot (a hash tag).
      const key = `${this.prefix}${scope}:${encodeURIComponent(nonce)}`
      return (await this.writer.write(key, ['set', key, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'])) === 'OK'
    } catch (err) {
      throw new StoreUnavailableError('Redis nonce store unavailable', { cause: err })
    }
  }
}
