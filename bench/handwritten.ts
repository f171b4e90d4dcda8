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

const SECRET = process.env.SECRET as string
const SUBJECT = process.env.SUBJECT as string
const WINDOW_MS = 60_000
const redis = new Redis(process.env.REDIS_URL as string, { enableAutoPipelining: true, maxRetriesPerRequest: 0 })
const backend = new Pool(process.env.UPSTREAM as string, { connections: 64 })
const app = Fastify({ logger: { level: 'info' } })

interface Wallet {
  wallet_id: string
  asset: { type: string; currency: string; network?: string; token_id?: string; testnet?: boolean }
  available_minor: number
  held_minor: number
  credit_minor?: number
  decimals: number
}

const BLOCKCHAINS: Record<string, string> = { BITCOIN: 'Bitcoin', ETHEREUM: 'Ethereum', POLYGON: 'Polygon PoS', SOLANA: 'Solana', STELLAR: 'Stellar', TRON: 'TRON', ALGORAND: 'Algorand' }

/** Integer minor units → a decimal string without float arithmetic (1234, 2 → "12.34"). */
function decimal(minor: number | undefined, scale: number): string | undefined {
  if (minor === undefined) return undefined
  const negative = minor < 0
  const digits = String(Math.abs(minor)).padStart(scale + 1, '0')
  const whole = digits.slice(0, digits.length - scale)
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '')
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`
}

function asset(a: Wallet['asset']) {
  if (a.type === 'FIAT') return { nationalCurrencyCode: a.currency, testAsset: a.testnet }
  if (a.type === 'TOKEN') return { assetId: a.token_id, testAsset: a.testnet }
  return { blockchain: BLOCKCHAINS[a.network ?? ''], cryptocurrencySymbol: a.currency, testAsset: a.testnet }
}

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
  return {
    balances: answer.wallets.slice(0, limit).map((w) => ({
      id: w.wallet_id,
      asset: asset(w.asset),
      availableAmount: decimal(w.available_minor, w.decimals),
      lockedAmount: decimal(w.held_minor, w.decimals),
      creditAmount: decimal(w.credit_minor, w.decimals),
    })),
  }
})

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
