import { Cluster, Redis, type RedisOptions } from 'ioredis'

/**
 * One Redis client for the nonce, idempotency and credential stores, from a URL:
 *   redis://[:password@]host:port[/db]   (rediss:// for TLS)
 *   redis+sentinel://[:password@]host:26379,host2:26379/masterName[/db]
 *   redis+cluster://[:password@]host:6379,host2:6379
 *
 * Commands fail at once while disconnected (no offline queue) so that the
 * gateway answers 503 instead of stalling, and the client reconnects on its
 * own: service resumes without a restart when Redis is back.
 */
export type RedisClient = Redis | Cluster

export interface RedisClientOptions {
  commandTimeoutMs?: number
}

const MULTI_HOST = /^(redis\+sentinel|redis\+cluster):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?]+)(?:\/([^/?]+))?(?:\/(\d+))?\/?$/

/** Where a Redis URL points: one server, a Sentinel-managed primary or a Cluster. */
export type RedisTarget =
  | { kind: 'server'; url: string }
  | { kind: 'sentinel'; sentinels: RedisNode[]; name: string; db: number; auth: RedisAuth }
  | { kind: 'cluster'; nodes: RedisNode[]; auth: RedisAuth }
export interface RedisNode {
  host: string
  port: number
}
type RedisAuth = { username?: string; password?: string }

/** Parses a `redis.url` (without connecting); throws on a scheme or form it does not support. */
export function parseRedisUrl(url: string): RedisTarget {
  const multi = MULTI_HOST.exec(url)
  if (!multi) {
    if (!/^rediss?:\/\//.test(url)) throw new Error(`unsupported Redis URL scheme in ${redactUrl(url)} (redis://, rediss://, redis+sentinel://, redis+cluster://)`)
    return { kind: 'server', url }
  }
  const [, scheme, username, password, hostList, name, db] = multi
  const nodes = (hostList as string).split(',').map((hp) => {
    const [host, port] = hp.split(':')
    return { host: host as string, port: Number(port ?? (scheme === 'redis+sentinel' ? 26379 : 6379)) }
  })
  const auth = { ...(username ? { username: decodeURIComponent(username) } : {}), ...(password ? { password: decodeURIComponent(password) } : {}) }
  if (scheme === 'redis+cluster') return { kind: 'cluster', nodes, auth }
  if (!name) throw new Error(`redis+sentinel URL needs the master name: redis+sentinel://host:26379/mymaster`)
  return { kind: 'sentinel', sentinels: nodes, name, db: Number(db ?? 0), auth }
}

export function createRedisClient(url: string, { commandTimeoutMs = 1000 }: RedisClientOptions = {}): RedisClient {
  const common: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    lazyConnect: false,
    // One socket write per event-loop turn instead of one per command: under load the
    // per-command write syscall was the largest single CPU cost of a request.
    enableAutoPipelining: true,
  }
  const target = parseRedisUrl(url)
  if (target.kind === 'server') return new Redis(url, common)
  if (target.kind === 'sentinel') return new Redis({ ...common, ...target.auth, sentinels: target.sentinels, name: target.name, db: target.db })
  return new Cluster(target.nodes, {
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    redisOptions: { ...common, ...target.auth },
  })
}

/** The URL without its password, for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
}

/** Resolves once the client can take commands, or rejects after `timeoutMs`. */
export function redisReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady)
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${client.status})`))
    }, timeoutMs)
    const onReady = () => {
      clearTimeout(timer)
      resolve()
    }
    client.once('ready', onReady)
  })
}
