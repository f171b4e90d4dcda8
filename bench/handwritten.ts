/**
 * What a competent engineer would write instead of the gateway, for the one
 * route the benchmark measures (`GET /v2/accounts/{accountId}/balances` over
 * the demo exchange's wallets): Fastify with its default request logging,
 * HMAC-SHA256 verified in constant time with the timestamp window, the nonce
 * claimed with Redis `SET NX PX`, the backend called through an undici pool,
 * the answer mapped in plain JavaScript (the same output as the demo's YAML),
 * the spec's pagination, JSON out. No OpenAPI validation and no idempotency:
 * a GET needs neither. Its CPU per request is the floor the gateway is held to.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { Pool } from 'undici'
import { balancesOf, type Wallet } from './balances-by-hand.js'

const SECRET = process.env.SECRET as string
const SUBJECT = process.env.SUBJECT as string
const WINDOW_MS = 60_000
const redis = new Redis(process.env.REDIS_URL as string, { enableAutoPipelining: true, maxRetriesPerRequest: 0 })
const backend = new Pool(process.env.UPSTREAM as string, { connections: 64 })
const app = Fastify({ logger: { level: 'info' } })

function refuse(status: number, message: string) {
  return { status, body: { message, errorType: status === 401 ? 'unauthorized' : 'schema-error' } }
}

app.get<{ Params: { accountId: string }; Querystring: { limit?: string } }>('/v2/accounts/:accountId/balances', async (request, reply) => {
  const key = request.headers['x-fbapi-key']
  const timestamp = request.headers['x-fbapi-timestamp']
  const nonce = request.headers['x-fbapi-nonce']
  const signature = request.headers['x-fbapi-signature']
  let refusal
  if (key !== 'bench-hmac' || typeof timestamp !== 'string' || typeof nonce !== 'string' || typeof signature !== 'string') refusal = refuse(401, 'Unauthorized')
  else if (Math.abs(Date.now() - Number(timestamp)) > WINDOW_MS) refusal = refuse(400, 'Stale timestamp')
  else {
    const expected = createHmac('sha256', SECRET).update(`${timestamp}${nonce}GET${request.url.slice(3)}`).digest()
    const given = Buffer.from(signature, 'base64')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) refusal = refuse(401, 'Bad signature')
    else if ((await redis.set(`nonce:${key}:${nonce}`, '1', 'PX', 2 * WINDOW_MS, 'NX')) !== 'OK') refusal = refuse(401, 'Nonce already used')
  }
  if (refusal) return reply.code(refusal.status).send(refusal.body)

  const res = await backend.request({
    method: 'GET',
    path: `/internal/v1/users/${encodeURIComponent(SUBJECT)}/accounts/${encodeURIComponent(request.params.accountId)}/wallets`,
    headers: { accept: 'application/json', 'x-legacy-user': SUBJECT },
  })
  const answer = (await res.body.json()) as { wallets: Wallet[] }
  if (res.statusCode !== 200) return reply.code(502).send({ message: 'Backend error', errorType: 'internal-error' })
  const limit = Math.min(200, Math.max(1, Number(request.query.limit ?? 10)))
  return balancesOf(answer, limit)
})

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
