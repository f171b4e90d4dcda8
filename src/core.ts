/**
 * Everything a gateway holds besides its listeners, built from the config and
 * framework-free: metrics, Redis, the nonce, idempotency and credential
 * stores, the authenticator, the backend pool, the mapping set (swapped whole
 * by reload) and the OpenAPI validators. The Fastify listeners
 * (plugins/gateway.ts) are wired onto it.
 */
import { Authenticator, type PlatformSignature } from './auth/authenticator.js'
import { loadConfig, PLATFORM_SCHEME, type GatewayConfig } from './config/load.js'
import { buildCredential, type Credential } from './credentials/credential.js'
import { ConfigError, type Problem } from './config/problems.js'
import { CredentialResolver } from './credentials/resolver.js'
import { HttpCredentialSource, RedisCredentialSource, type CredentialSource } from './credentials/sources.js'
import { MemoryIdempotencyStore } from './idempotency/memory.js'
import { RedisIdempotencyStore } from './idempotency/redis.js'
import type { IdempotencyStore } from './idempotency/store.js'
import { compileMappings, type MappingSet } from './mapping/load.js'
import { memoryBudgetProblems } from './memory-budget.js'
import { createMetrics, timed, type GatewayMetrics } from './metrics.js'
import { MemoryNonceStore } from './nonce/memory.js'
import { RedisNonceStore } from './nonce/redis.js'
import type { NonceStore } from './nonce/store.js'
import { loadOpenApi } from './openapi/document.js'
import { compileValidators, type OperationValidators } from './openapi/validators.js'
import { createRedisClient, type RedisClient } from './redis.js'
import { createRedisWriter } from './redis-writes.js'
import { RouteTable } from './route-table.js'
import { Base58Pool } from './signing/base58-pool.js'
import { createVerifier } from './signing/index.js'
import type { ListenerTls } from './tls.js'
import type { Tracing } from './tracing.js'
import { Upstream } from './upstream.js'

/** One readiness check, as /readyz reports it. */
export interface Check {
  ok: boolean
  detail?: string
}

/** A successful reload carries the config now in force: the listeners apply its certificates. */
export type ReloadResult = { ok: true; hash: string; restartNeeded: string[]; config: GatewayConfig } | { ok: false; problems: Problem[] }

export interface Core {
  config: GatewayConfig
  metrics: GatewayMetrics
  redis?: RedisClient
  nonces: NonceStore
  idempotency: IdempotencyStore
  credentials: CredentialResolver
  authenticator: Authenticator
  upstream: Upstream
  /** The mapping set requests use now; replaced whole by reload(). */
  mappings: { current: MappingSet }
  /** OpenAPI validators by route key (empty without the document). */
  validators: ReadonlyMap<string, OperationValidators>
  /** OpenTelemetry, when `tracing` is configured. */
  tracing?: Tracing
  /**
   * Re-reads the config file, its credential files, certificates and
   * mappings and swaps them in at once (the backend's client certificate
   * here; the listeners' certificates are the listeners' to apply). Invalid files are rejected with their problems and the
   * running set keeps serving. Requests in flight finish on the set they
   * started with.
   */
  reload(env?: NodeJS.ProcessEnv): ReloadResult
  /** What /readyz reports: the config, Redis when configured, the backend when a readiness path is set. */
  readiness(): Promise<Record<string, Check>>
  close(): Promise<void>
}

/** `tracing`: made by `loadTracing` when `config.tracing` is set (it loads the SDK, asynchronously); the core shuts it down. */
export function createCore(config: GatewayConfig, options: { metrics?: GatewayMetrics; tracing?: Tracing | undefined } = {}): Core {
  const budget = memoryBudgetProblems(config)
  if (budget.length > 0) throw new ConfigError(budget)
  const redis = config.redis ? createRedisClient(config.redis.url, { commandTimeoutMs: config.redis.commandTimeoutMs }) : undefined
  // ioredis reports connection errors as events too; the stores turn failed commands into 503s.
  redis?.on('error', () => {})
  const metrics = options.metrics ?? createMetrics({ apiKeyLabel: config.metrics.apiKeyLabel })
  const writer = redis && config.redis ? createRedisWriter(redis, config.redis) : undefined
  const nonces = instrumentNonces(writer ? new RedisNonceStore(writer) : new MemoryNonceStore({ maxEntries: config.auth.nonceMaxEntries }), metrics)
  const sources: CredentialSource[] = config.auth.sources.map((source) =>
    instrumentSource(
      'redis' in source
        ? new RedisCredentialSource(redis as RedisClient, source.redis.prefix)
        : new HttpCredentialSource(source.http.url, source.http.timeoutMs, source.http.headers),
      metrics,
    ),
  )
  const { ttlMs, lockMs, maxEntries } = config.idempotency
  const idempotency = instrumentIdempotency(redis && writer ? new RedisIdempotencyStore(redis, writer, { ttlMs, lockMs }) : new MemoryIdempotencyStore({ ttlMs, lockMs, maxEntries }), metrics)
  const credentials = new CredentialResolver({
    fixed: fixedCredentials(config),
    sources,
    defaultScheme: config.auth.scheme,
    cache: config.auth.cache,
    onCacheLookup: (hit) => metrics.credentialCache.inc({ result: hit ? 'hit' : 'miss' }),
  })
  const platform = platformSignature(config)
  // One thread: large base58 messages are rare; what matters is that they never hold up the event loop.
  const base58 = new Base58Pool({ threads: 1, maxQueue: 64 })
  const authenticator = new Authenticator({
    credentials,
    nonces,
    timestampWindowMs: config.auth.timestampWindowMs,
    nonceTtlMs: config.auth.nonceTtlMs,
    bodyLimit: config.server.bodyLimit,
    base58BodyLimit: config.auth.base58BodyLimit,
    base58,
    ...(platform ? { platform } : {}),
  })
  const upstream = new Upstream({ url: config.upstream.url, connections: config.upstream.connections, connectTimeoutMs: config.upstream.connectTimeoutMs, tls: config.upstream.tls })
  const { tracing } = options
  const openapi = config.openapi ? loadOpenApi(config.openapi.file) : undefined
  const mappings = { current: compileMappings(config, openapi) }
  const validators = openapi ? compileValidators(openapi, openapi.operations.keys()) : new Map<string, OperationValidators>()

  let loaded = config
  const showHash = (hash: string) => {
    metrics.configInfo.reset()
    metrics.configInfo.set({ hash }, 1)
  }
  showHash(configHash(config, mappings.current))
  return {
    config,
    metrics,
    ...(redis ? { redis } : {}),
    nonces,
    idempotency,
    credentials,
    authenticator,
    upstream,
    mappings,
    validators,
    ...(tracing ? { tracing } : {}),
    reload(env = process.env) {
      let next: GatewayConfig
      let nextMappings: MappingSet
      try {
        next = loadConfig(loaded.file, env)
        nextMappings = compileMappings(next, openapi)
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err
        metrics.reloads.inc({ result: 'failure' })
        return { ok: false, problems: err.problems }
      }
      credentials.replaceFixed(fixedCredentials(next))
      authenticator.setPlatform(platformSignature(next))
      upstream.setTls(next.upstream.tls)
      mappings.current = nextMappings
      const restartNeeded = changedOnRestartOnly(loaded, next)
      loaded = next
      const hash = configHash(next, nextMappings)
      showHash(hash)
      metrics.reloads.inc({ result: 'success' })
      return { ok: true, hash, restartNeeded, config: next }
    },
    readiness: shared(1000, async () => {
      const checks: Record<string, Check> = { config: { ok: true, detail: `hash ${configHash(loaded, mappings.current)}` } }
      if (redis) checks.redis = await probe(() => redis.ping(), 500)
      const readinessPath = loaded.upstream.readinessPath
      if (readinessPath) {
        checks.upstream = await probe(async () => {
          const res = await upstream.request({ method: 'GET', path: readinessPath, headers: {}, timeoutMs: 1000 })
          if (res.status >= 500) throw new Error(`answered ${res.status}`)
        }, 1500)
      }
      return checks
    }),
    async close() {
      await upstream.close()
      await base58.close()
      await tracing?.shutdown()
      if (redis) await redis.quit().catch(() => redis.disconnect())
    },
  }
}

function configHash(config: GatewayConfig, mappings: MappingSet): string {
  return `${config.hash.slice(0, 12)}-${mappings.hash.slice(0, 12)}`
}

function instrumentNonces(store: NonceStore, metrics: GatewayMetrics): NonceStore {
  return { kind: store.kind, claim: (scope, nonce, ttlMs) => timed(metrics, 'nonce', store.kind, () => store.claim(scope, nonce, ttlMs)) }
}

function instrumentIdempotency(store: IdempotencyStore, metrics: GatewayMetrics): IdempotencyStore {
  const time = <T>(operation: () => Promise<T>) => timed(metrics, 'idempotency', store.kind, operation)
  return {
    kind: store.kind,
    claim: (key, print) => time(() => store.claim(key, print)),
    complete: (key, token, print, response) => time(() => store.complete(key, token, print, response)),
    release: (key, token) => time(() => store.release(key, token)),
    extend: (key, token) => time(() => store.extend(key, token)),
    hold: (key, token) => time(() => store.hold(key, token)),
    changed: (key, waitMs) => store.changed(key, waitMs),
  }
}

function instrumentSource(source: CredentialSource, metrics: GatewayMetrics): CredentialSource {
  return { name: source.name, lookup: (apiKey) => timed(metrics, 'credential', source.name, () => source.lookup(apiKey)) }
}

/**
 * One answer for every caller within `ms`: /readyz is unauthenticated and each
 * check asks the backend and Redis, so a flood of probes must not become a
 * flood of backend requests.
 */
function shared<T>(ms: number, work: () => Promise<T>): () => Promise<T> {
  let last: { at: number; answer: Promise<T> } | undefined
  return () => {
    const now = Date.now()
    if (!last || now - last.at >= ms) last = { at: now, answer: work() }
    return last.answer
  }
}

async function probe(check: () => Promise<unknown>, timeoutMs: number): Promise<Check> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([check(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs)))])
    return { ok: true }
  } catch (err) {
    return { ok: false, detail: (err as Error).message }
  } finally {
    clearTimeout(timer)
  }
}

/** The credentials of the config's files, each key parsed into its verifier once. */
function fixedCredentials(config: GatewayConfig): Map<string, Credential> {
  return new Map([...config.auth.credentials].map(([apiKey, record]) => [apiKey, buildCredential(apiKey, record, config.auth.scheme)]))
}

function platformSignature(config: GatewayConfig): PlatformSignature | undefined {
  const platform = config.auth.platform
  if (!platform) return undefined
  return { verifiers: platform.publicKeys.map((pem) => createVerifier(PLATFORM_SCHEME, pem)), routes: new RouteTable(platform.routes) }
}

/**
 * A reload applies mappings, credential files, platform keys and
 * certificates. Every other setting takes effect on restart: report the
 * sections that changed.
 */
function changedOnRestartOnly(before: GatewayConfig, after: GatewayConfig): string[] {
  const comparable = (config: GatewayConfig) => {
    // Credential files, platform keys and certificates are applied by reload; the rest is plain data, compared as values.
    const { credentials, platform, ...auth } = config.auth
    // Turning HTTPS or mutual TLS on or off changes the listener itself.
    const listener = (tls: ListenerTls | undefined) => tls && { requestClientCert: tls.requestClientCert }
    const server = { ...config.server, tls: listener(config.server.tls) }
    const upstream = { ...config.upstream, tls: undefined }
    const outbound = config.outbound && { ...config.outbound, tls: listener(config.outbound.tls), targetTls: undefined }
    return { server, metrics: config.metrics, redis: config.redis, auth, upstream, openapi: config.openapi, idempotency: config.idempotency, outbound, rateLimit: config.rateLimit, tracing: config.tracing, logging: config.logging, reload: config.reload }
  }
  const a = comparable(before)
  const b = comparable(after)
  return (Object.keys(a) as Array<keyof typeof a>).filter((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key]))
}
