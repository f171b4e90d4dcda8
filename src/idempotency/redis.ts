import { randomUUID } from 'node:crypto'
import type { RedisClient } from '../redis.js'
import type { RedisWriter } from '../redis-writes.js'
import { StoreUnavailableError } from '../nonce/store.js'
import type { Claim, IdempotencyStore, StoredResponse } from './store.js'

/**
 * Shared by every replica. A claim is `SET key {pending} NX PX lock`; only the
 * holder of the claim's token may complete or release it (a Lua compare-and-
 * set), so a request whose claim expired cannot overwrite a newer one.
 * Waiters poll: the wait is short and bounded, and polling needs no extra
 * connections. A claim and a completed record count once the writer says so
 * (`redis.durability`); a release needs no confirmation: losing one only
 * keeps the key locked until its claim expires.
 */
const COMPLETE = `local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).token == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return false`
const HOLD = `local v = redis.call('GET', KEYS[1])
if not v then return false end
local record = cjson.decode(v)
if record.token ~= ARGV[1] then return false end
return redis.call('SET', KEYS[1], cjson.encode({ fingerprint = record.fingerprint, held = true }), 'PX', ARGV[2])`
const EXTEND = `local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).token == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`
const RELEASE = `local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).token == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

interface Record {
  fingerprint: string
  token?: string
  held?: true
  response?: StoredResponse
}

export class RedisIdempotencyStore implements IdempotencyStore {
  readonly kind = 'redis'

  constructor(
    private readonly redis: RedisClient,
    private readonly writer: RedisWriter,
    private readonly options: { ttlMs: number; lockMs: number; pollMs?: number; prefix?: string },
  ) {}

  private key(key: string): string {
    return (this.options.prefix ?? 'nlgw:idem:') + key
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command()
    } catch (err) {
      throw new StoreUnavailableError('Redis idempotency store unavailable', { cause: err })
    }
  }

  async claim(key: string, fingerprint: string): Promise<Claim> {
    const token = randomUUID()
    for (;;) {
      const set = await this.run(() => this.writer.write(this.key(key), ['set', this.key(key), JSON.stringify({ fingerprint, token }), 'PX', this.options.lockMs, 'NX']))
      if (set === 'OK') return { state: 'claimed', token }
      const raw = await this.run(() => this.redis.get(this.key(key)))
      if (raw === null) continue // released or expired in between: claim again
      const record = JSON.parse(raw) as Record
      if (record.response) return { state: 'done', fingerprint: record.fingerprint, response: record.response }
      return { state: record.held ? 'held' : 'pending', fingerprint: record.fingerprint }
    }
  }

  async complete(key: string, token: string, fingerprint: string, response: StoredResponse): Promise<void> {
    await this.run(() => this.writer.write(this.key(key), ['eval', COMPLETE, 1, this.key(key), token, JSON.stringify({ fingerprint, response }), this.options.ttlMs]))
  }

  async release(key: string, token: string): Promise<void> {
    await this.run(() => this.redis.eval(RELEASE, 1, this.key(key), token))
  }

  async hold(key: string, token: string): Promise<void> {
    await this.run(() => this.writer.write(this.key(key), ['eval', HOLD, 1, this.key(key), token, this.options.lockMs]))
  }

  async extend(key: string, token: string): Promise<void> {
    await this.run(() => this.writer.write(this.key(key), ['eval', EXTEND, 1, this.key(key), token, this.options.lockMs]))
  }

  changed(_key: string, waitMs: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, this.options.pollMs ?? 25)))
  }
}
