import type { FastifyInstance } from 'fastify'
import type { LoggerOptions } from 'pino'
import { buildApp } from './app.js'
import { Authenticator } from './auth/authenticator.js'
import type { GatewayConfig } from './config/load.js'
import { CredentialResolver } from './credentials/resolver.js'
import { HttpCredentialSource, RedisCredentialSource, type CredentialSource } from './credentials/sources.js'
import { createMetrics, type GatewayMetrics } from './metrics.js'
import { MemoryNonceStore } from './nonce/memory.js'
import { RedisNonceStore } from './nonce/redis.js'
import type { NonceStore } from './nonce/store.js'
import { createRedisClient, type RedisClient } from './redis.js'
import { Upstream } from './upstream.js'

/** A gateway built from its config: the app plus everything it holds open. */
export interface Gateway {
  config: GatewayConfig
  app: FastifyInstance
  metrics: GatewayMetrics
  nonces: NonceStore
  credentials: CredentialResolver
  redis?: RedisClient
  close(): Promise<void>
}

export interface GatewayOptions {
  logger?: LoggerOptions | false
  metrics?: GatewayMetrics
}

export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const redis = config.redis ? createRedisClient(config.redis.url, { commandTimeoutMs: config.redis.commandTimeoutMs }) : undefined
  // ioredis reports connection errors as events too; the stores turn failed commands into 503s.
  redis?.on('error', () => {})
  const nonces: NonceStore = redis
    ? new RedisNonceStore(redis, config.auth.nonceTtlMs)
    : new MemoryNonceStore({ ttlMs: config.auth.nonceTtlMs, maxEntries: config.auth.nonceMaxEntries })
  const sources: CredentialSource[] = config.auth.sources.map((source) =>
    'redis' in source
      ? new RedisCredentialSource(redis as RedisClient, source.redis.prefix)
      : new HttpCredentialSource(source.http.url, source.http.timeoutMs, source.http.headers),
  )
  const metrics = options.metrics ?? createMetrics()
  const credentials = new CredentialResolver({ fixed: config.auth.credentials, sources, defaultScheme: config.auth.scheme, cache: config.auth.cache })
  const authenticator = new Authenticator({ credentials, nonces, timestampWindowMs: config.auth.timestampWindowMs })
  const upstream = new Upstream({ url: config.upstream.url, connections: config.upstream.connections, connectTimeoutMs: config.upstream.connectTimeoutMs })
  const logger = options.logger ?? { level: config.logging.level }
  const app = await buildApp({ config, authenticator, upstream, metrics, logger })
  return {
    config,
    app,
    metrics,
    nonces,
    credentials,
    ...(redis ? { redis } : {}),
    async close() {
      await app.close()
      await upstream.close()
      if (redis) await redis.quit().catch(() => redis.disconnect())
    },
  }
}
