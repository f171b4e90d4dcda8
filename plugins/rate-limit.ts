import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fastifyRateLimit, { normalizeIP, type RateLimitOptions } from '@fastify/rate-limit'
import type { GatewayConfig } from '../src/config/load.js'
import type { Credential } from '../src/credentials/credential.js'
import { ERRORS, GatewayError, type ErrorSpec } from '../src/errors.js'
import { timed, type GatewayMetrics } from '../src/metrics.js'
import { BURST_WINDOW_MS, countsAgainstAddress, limitKeys, Unproven } from '../src/rate-limit.js'
import type { RedisClient } from '../src/redis.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The budget key of a request's source address while it is in flight and unproven. */
    unprovenAddress: string | null
  }
}

type Limits = NonNullable<GatewayConfig['rateLimit']>
type Limiter = ReturnType<FastifyInstance['createRateLimit']>

export interface RateLimitWiring {
  limits: Limits
  /** Shared by every replica when set; otherwise each instance counts in memory. */
  redis: RedisClient | undefined
  metrics: GatewayMetrics
}

/** Keys each in-memory budget holds (an LRU; the oldest key is forgotten first). */
const MEMORY_KEYS = 10_000

/**
 * Request budgets, counted by @fastify/rate-limit in Redis (one Lua script
 * per check: INCR and PEXPIRE) or in memory. Fixed windows.
 *
 * - Refused requests per source address: read (without counting) in the
 *   first hooks, before the target or any header is parsed, with the
 *   address's requests still in flight and unproven held against it
 *   (`Unproven`); counted when the answer is a refusal before
 *   authentication (src/rate-limit.ts).
 * - Per credential: counted once the signature and nonce are proven, so a
 *   forged request never spends a real key's budget.
 *
 * `proven` runs once a request's signature and nonce are proven: it lets go
 * of the request's place among the unproven and spends its key's budget.
 *
 * Fail closed: when Redis cannot answer, the request is refused with 503.
 * The nonce claim needs the same Redis, so no request could be served
 * anyway; failing open would only lift the brake on key guessing for as
 * long as Redis is down.
 */
export async function registerRateLimits(app: FastifyInstance, { limits, redis, metrics }: RateLimitWiring): Promise<{ proven?: (request: FastifyRequest, reply: FastifyReply) => Promise<void> }> {
  await app.register(fastifyRateLimit, { global: false, ...(redis ? { redis, nameSpace: 'nlgw:rate:' } : {}) })
  const backend = redis ? 'redis' : 'memory'
  const limiter = (options: RateLimitOptions): Limiter => app.createRateLimit({ ...options, cache: MEMORY_KEYS } as RateLimitOptions)
  const check = async (limit: Limiter, request: FastifyRequest, increment = true) => {
    try {
      return await timed(metrics, 'rate_limit', backend, () => limit(request, { increment }))
    } catch (err) {
      throw new GatewayError(ERRORS.rateLimitUnavailable, {}, { cause: err })
    }
  }
  const refuse = (reply: FastifyReply, spec: ErrorSpec, ttlMs: number): never => {
    reply.header('retry-after', String(Math.max(1, Math.ceil(ttlMs / 1000))))
    throw new GatewayError(spec)
  }

  const { refusedPerAddress, perCredential } = limits
  const unproven = new Unproven()
  const release = (request: FastifyRequest) => {
    if (request.unprovenAddress === null) return
    unproven.release(request.unprovenAddress, request.raw.socket)
    request.unprovenAddress = null
  }
  if (refusedPerAddress) {
    const address = (request: FastifyRequest) => limitKeys.address(normalizeIP(request.ip))
    const refusals = limiter({ keyGenerator: address, max: refusedPerAddress.max, timeWindow: refusedPerAddress.windowMs })
    app.decorateRequest('unprovenAddress', null)
    app.addHook('onRequest', async (request, reply) => {
      const state = await check(refusals, request, false)
      const key = address(request)
      if (!state.isAllowed && state.remaining <= unproven.of(key)) refuse(reply, ERRORS.tooManyRefusals, state.ttl)
      if (unproven.hold(key, request.raw.socket)) request.unprovenAddress = key
    })
    app.addHook('onResponse', async (request) => {
      // The answer is gone: a store that cannot count now only shows in nlgw_store_errors_total.
      if (countsAgainstAddress(request.refusal, request.credential !== null)) await check(refusals, request).catch(() => {})
      // Held until counted: released earlier, it would be neither in flight nor in the count for a moment.
      release(request)
    })
  }
  if (!perCredential) return refusedPerAddress ? { proven: async (request) => release(request) } : {}
  const { burst } = perCredential
  const id = (request: FastifyRequest) => (request.credential as Credential).id
  const budget = limiter({ keyGenerator: (request) => limitKeys.credential(id(request)), max: perCredential.max, timeWindow: perCredential.windowMs })
  const bursts = burst === undefined ? undefined : limiter({ keyGenerator: (request) => limitKeys.burst(id(request)), max: burst, timeWindow: BURST_WINDOW_MS })
  return {
    async proven(request, reply) {
      release(request)
      for (const limit of bursts ? [bursts, budget] : [budget]) {
        const state = await check(limit, request)
        if (!state.isAllowed && state.isExceeded) refuse(reply, ERRORS.rateLimited, state.ttl)
      }
    },
  }
}
