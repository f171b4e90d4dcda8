import t from 'tap'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Backend } from '../helpers/backend.js'
import { independent } from '../helpers/independent.js'
import { makeKeys } from '../helpers/keys.js'
import { startGateway } from '../helpers/gateway.js'
import { head, hmacHeaders, rawSend, type RawAnswer } from '../helpers/raw.js'
import { RedisServer } from '../helpers/redis.js'

/**
 * Rows 1, 2 and 8 of the security review: the request target decides the
 * account scope, whether Fireblocks' platform signature is required and the
 * idempotency scope, so a second spelling of a target must never buy a
 * different decision. Every request below is correctly signed (over the
 * target exactly as sent, minus /v2: what the gateway verifies), sent byte
 * for byte over a socket, and must be refused without reaching the backend
 * and, where the refusal comes before authentication, without a write to Redis.
 */
const redis = await RedisServer.start()
const inspect = redis.client()
const platformKey = makeKeys('rsa', t.testdir({}))
let payouts = 0
const backend = await Backend.start((req) => {
  if (req.method === 'POST' && req.url === '/payouts') {
    payouts++
    return { status: 201, body: { payout_id: `p-${payouts}` } }
  }
  return { status: 200, body: { ok: true, url: req.url } }
})
const mapping = `routes:
  - route: POST /accounts/{accountId}/transfers/withdrawals/blockchain
    upstream: { post: /payouts, body: { account: $params.accountId, amount: $body.amount } }
    status: 201
    response: { id: $body.payout_id }
`
const gateway = await startGateway({
  config: {
    redis: { url: redis.url },
    auth: {
      scheme: { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' },
      credentials: [{ file: 'credentials.yaml' }],
      // Default routes: every method under /accounts/{accountId}/collateral.
      platformSignature: { enabled: true, publicKeys: [readFileSync(platformKey.publicPath, 'utf8')] },
    },
    upstream: { url: backend.url, passthrough: '/nl' },
    mappings: ['mappings.yaml'],
  },
  credentials: [
    { id: 'scoped', apiKey: 'scoped-key', secret: { env: 'S' }, subject: 'u-1', accounts: ['acc-1'] },
    { id: 'wide', apiKey: 'wide-key', secret: { env: 'S' }, subject: 'u-2' },
  ],
  env: { S: 'secret' },
  files: { 'mappings.yaml': mapping },
})
t.teardown(async () => {
  inspect.disconnect()
  await gateway.close()
  await backend.close()
  await redis.stop()
})
const port = Number(new URL(gateway.url).port)

/** Sends `method target` with a valid signature over the target as sent (minus the 3-character base path). */
async function signed(method: string, target: string, { apiKey = 'scoped-key', body, headers = {} }: { apiKey?: string; body?: string; headers?: Record<string, string> } = {}): Promise<RawAnswer> {
  const bytes = body ?? ''
  const auth = hmacHeaders('secret', method, target.slice('/v2'.length), bytes, { apiKey })
  const extra: Record<string, string | number> = body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(bytes) }
  return rawSend(port, head(method, target, { ...auth, ...extra, ...headers, Connection: 'close' }) + bytes)
}

async function nonceKeys(): Promise<number> {
  return (await inspect.keys('nlgw:nonce:*')).length
}

const withdrawal = JSON.stringify({ amount: '1' })

t.test('a valid request still works (the set-up is not refusing everything)', async (t) => {
  const before = payouts
  const ok = await signed('POST', '/v2/accounts/acc-1/transfers/withdrawals/blockchain', { body: withdrawal })
  t.equal(ok.status, 201, ok.body)
  t.equal(payouts, before + 1)
  const listed = await signed('GET', '/v2/accounts/acc-1/balances')
  t.equal(listed.status, 200, listed.body)
  t.equal(backend.requests.at(-1)?.url, '/nl/accounts/acc-1/balances')
})

interface Case {
  what: string
  method: string
  target: string
  /** Exact expectation where the refusal is known; otherwise any of these statuses. */
  status: number | number[]
  reason?: 'non_canonical_target' | 'dot_segment' | 'account_scope' | 'no_route'
}

const nonCanonical = { status: 400, reason: 'non_canonical_target' } as const
const dot = { status: 400, reason: 'dot_segment' } as const
const REFUSED = [400, 404]

const ERROR_TYPES: Record<string, string> = { non_canonical_target: 'bad-request', dot_segment: 'bad-request', account_scope: 'not-found', no_route: 'not-found' }

/** The assertions a test or subtest offers. */
type Assert = Pick<typeof t, 'ok' | 'equal' | 'type'>

/** Refusals counted under this reason, in nlgw_auth_refusals_total and nlgw_request_refusals_total. */
async function refusals(reason: string): Promise<number> {
  let total = 0
  for (const name of ['nlgw_auth_refusals_total', 'nlgw_request_refusals_total']) {
    const metric = await gateway.metrics.registry.getSingleMetric(name)?.get()
    total += metric?.values.filter((v) => v.labels.reason === reason).reduce((sum, v) => sum + v.value, 0) ?? 0
  }
  return total
}

async function expectRefused(t: Assert, c: Case, apiKey: string): Promise<void> {
  const before = { requests: backend.requests.length, payouts, nonces: await nonceKeys(), keys: await inspect.dbsize(), counted: c.reason ? await refusals(c.reason) : 0 }
  const res = await signed(c.method, c.target, { apiKey, ...(c.method === 'POST' ? { body: withdrawal } : {}) })
  const statuses = Array.isArray(c.status) ? c.status : [c.status]
  t.ok(statuses.includes(res.status), `${c.what}: status ${res.status} is one of ${statuses.join('/')} (${res.body})`)
  if (c.reason) {
    t.equal(res.json?.errorType, ERROR_TYPES[c.reason], `${c.what}: errorType`)
    t.equal(await refusals(c.reason), before.counted + 1, `${c.what}: counted as reason="${c.reason}"`)
  }
  t.type(res.json?.message, 'string', `${c.what}: a Network Link error body`)
  t.equal(backend.requests.length, before.requests, `${c.what}: nothing reached the backend`)
  t.equal(payouts, before.payouts, `${c.what}: no payout executed`)
  const written = (await inspect.dbsize()) - before.keys
  // A scope refusal comes after the signature: its nonce is recorded (and only that). Anything refused earlier writes nothing.
  const nonceWritten = (await nonceKeys()) - before.nonces
  t.equal(written, nonceWritten, `${c.what}: nothing but a nonce written to Redis`)
  if (res.status === 400) t.equal(written, 0, `${c.what}: a malformed target writes nothing to Redis`)
}

t.test('row 1: a credential scoped to acc-1 cannot reach acc-2 through another spelling of the target', async (t) => {
  const cases: Case[] = [
    { what: 'control: plain target', method: 'POST', target: '/v2/accounts/acc-2/transfers/withdrawals/blockchain', status: 404, reason: 'account_scope' },
    { what: 'encoded unreserved char in "accounts"', method: 'POST', target: '/v2/%61ccounts/acc-2/transfers/withdrawals/blockchain', ...nonCanonical },
    { what: 'upper-case escape of an unreserved char', method: 'POST', target: '/v2/%41ccounts/acc-2/transfers/withdrawals/blockchain', ...nonCanonical },
    { what: 'encoded unreserved char in the account id', method: 'GET', target: '/v2/accounts/%61cc-2/balances', ...nonCanonical },
    { what: 'encoded unreserved char in the route', method: 'POST', target: '/v2/accounts/acc-2/transfers/withdrawals/%62lockchain', ...nonCanonical },
    { what: 'absolute-form target', method: 'POST', target: 'http://x/v2/accounts/acc-2/transfers/withdrawals/blockchain', ...nonCanonical },
    { what: 'absolute-form target with the scoped account in its authority', method: 'GET', target: 'http://acc-1/v2/accounts/acc-2/balances', ...nonCanonical },
    { what: 'empty segment after the base path', method: 'POST', target: '/v2//accounts/acc-2/transfers/withdrawals/blockchain', ...nonCanonical },
    { what: 'empty segment before the account', method: 'GET', target: '/v2/accounts//acc-2/balances', ...nonCanonical },
    { what: 'trailing slash', method: 'GET', target: '/v2/accounts/acc-2/', ...nonCanonical },
    { what: '"." segment', method: 'POST', target: '/v2/accounts/acc-2/./transfers/withdrawals/blockchain', ...dot },
    { what: '".." from the scoped account to another', method: 'GET', target: '/v2/accounts/acc-1/../acc-2/balances', ...dot },
    { what: 'encoded slash after the account', method: 'GET', target: '/v2/accounts/acc-2%2F..', ...nonCanonical },
    { what: 'encoded slash, lower-case hex', method: 'GET', target: '/v2/accounts/acc-2%2f..', ...nonCanonical },
    { what: 'encoded traversal out of the scoped account', method: 'GET', target: '/v2/accounts/acc-1/..%2F..%2Faccounts%2Facc-2/balances', ...nonCanonical },
    { what: 'encoded backslash traversal', method: 'GET', target: '/v2/accounts/acc-1%5C..%5Cacc-2/balances', ...nonCanonical },
    { what: 'encoded dots', method: 'GET', target: '/v2/accounts/acc-1/%2e%2e/acc-2/balances', ...nonCanonical },
    { what: 'path parameter on "accounts"', method: 'GET', target: '/v2/accounts;x=1/acc-2/balances', ...nonCanonical },
    { what: 'path parameter on the account', method: 'GET', target: '/v2/accounts/acc-1;/../acc-2/balances', ...nonCanonical },
    { what: 'malformed escape', method: 'GET', target: '/v2/accounts/acc-2%zz/balances', status: 400 },
    { what: 'base path in upper case', method: 'GET', target: '/V2/accounts/acc-2/balances', status: 404, reason: 'no_route' },
    // A case variant names no Network Link route: 404 before anything (passthrough once forwarded /nl/Accounts/acc-2/…
    // unscoped, and a case-insensitive backend such as Express by default served acc-2 to a credential limited to acc-1).
    { what: '"accounts" capitalised', method: 'GET', target: '/v2/Accounts/acc-2/balances', status: REFUSED },
    { what: '"accounts" in upper case', method: 'POST', target: '/v2/ACCOUNTS/acc-2/transfers/withdrawals/blockchain', status: REFUSED },
  ]
  for (const c of cases) await expectRefused(t, c, 'scoped-key')
})

/** Fireblocks' platform signature, made by the openssl CLI (RSA PKCS#1 v1.5, SHA-512, base64) over what the client signs. */
function platformSignature(timestamp: string, nonce: string, method: string, endpoint: string, body: string): string {
  const message = Buffer.from(`${timestamp}${nonce}${method}${endpoint}${body}`)
  const [signed] = independent([{ op: 'sign', algorithm: 'rsa', hash: 'sha512', pre: 'plain', post: 'base64', key: platformKey.privatePath, message }])
  return signed?.signature as string
}

t.test('row 2: a collateral route cannot shed its platform-signature requirement by a second spelling', async (t) => {
  const target = '/v2/accounts/acc-1/collateral/cva-1/intents/withdrawals'
  const body = JSON.stringify({ amount: '1' })

  t.test('controls: the canonical route needs the header and passes with it', async (t) => {
    const before = backend.requests.length
    const missing = await signed('POST', target, { apiKey: 'wide-key', body })
    t.same([missing.status, missing.json], [400, { message: 'Missing X-FB-PLATFORM-SIGNATURE header', errorType: 'schema-property-error', propertyName: 'X-FB-PLATFORM-SIGNATURE', requestPart: 'headers' }])
    t.equal(backend.requests.length, before, 'refused before the backend')
    const timestamp = String(Date.now())
    const nonce = randomUUID()
    const auth = hmacHeaders('secret', 'POST', target.slice(3), body, { apiKey: 'wide-key', timestamp, nonce })
    const res = await rawSend(
      port,
      head('POST', target, { ...auth, 'X-FB-PLATFORM-SIGNATURE': platformSignature(timestamp, nonce, 'POST', target.slice(3), body), 'Content-Type': 'application/json', 'Content-Length': body.length, Connection: 'close' }) + body,
    )
    t.equal(res.status, 200, res.body)
    t.equal(backend.requests.at(-1)?.url, '/nl/accounts/acc-1/collateral/cva-1/intents/withdrawals', 'with a valid platform signature it is forwarded')
  })

  t.test('no X-FB-PLATFORM-SIGNATURE: no spelling of the route is executed', async (t) => {
    const cases: Case[] = [
      { what: 'encoded "c" in "collateral"', method: 'POST', target: '/v2/accounts/acc-1/%63ollateral/cva-1/intents/withdrawals', ...nonCanonical },
      { what: 'encoded "C", upper-case hex', method: 'POST', target: '/v2/accounts/acc-1/%43ollateral/cva-1/intents/withdrawals', ...nonCanonical },
      { what: 'encoded unreserved char in the CVA id', method: 'POST', target: '/v2/accounts/acc-1/collateral/%63va-1/intents/withdrawals', ...nonCanonical },
      { what: 'encoded unreserved char in "accounts"', method: 'POST', target: '/v2/%61ccounts/acc-1/collateral/cva-1/intents/withdrawals', ...nonCanonical },
      { what: 'absolute-form target', method: 'POST', target: 'http://x/v2/accounts/acc-1/collateral/cva-1/intents/withdrawals', ...nonCanonical },
      { what: 'empty segment', method: 'POST', target: '/v2/accounts/acc-1//collateral/cva-1/intents/withdrawals', ...nonCanonical },
      { what: '"." segment', method: 'POST', target: '/v2/accounts/acc-1/./collateral/cva-1/intents/withdrawals', ...dot },
      { what: 'encoded slash inside the collateral segment', method: 'POST', target: '/v2/accounts/acc-1/collateral%2Fcva-1/intents/withdrawals', ...nonCanonical },
      { what: 'path parameter on "collateral"', method: 'POST', target: '/v2/accounts/acc-1/collateral;a=b/cva-1/intents/withdrawals', ...nonCanonical },
      // A case variant names no route: 404 (passthrough once forwarded /nl/accounts/acc-1/Collateral/… without the
      // Fireblocks signature ever being asked for).
      { what: '"collateral" capitalised', method: 'POST', target: '/v2/accounts/acc-1/Collateral/cva-1/intents/withdrawals', status: REFUSED },
    ]
    for (const c of cases) await expectRefused(t, c, 'wide-key')
  })
})

t.test('row 8: one idempotencyKey, two spellings of the payout route: one payout', async (t) => {
  const idempotencyKey = randomUUID()
  const body = JSON.stringify({ idempotencyKey, amount: '5' })
  const idemKeys = async () => (await inspect.keys('nlgw:idem:*')).length
  const before = { payouts, idem: await idemKeys(), keys: await inspect.dbsize() }
  const spellings = [
    '/v2/accounts/acc-1/transfers/withdrawals/%62lockchain',
    '/v2/accounts/acc-1/transfers/withdrawals/%62%6c%6f%63%6b%63%68%61%69%6e',
    '/v2/accounts/%61cc-1/transfers/withdrawals/blockchain',
    '/v2/accounts/acc-1/transfers/./withdrawals/blockchain',
    '/v2/accounts/acc-1/transfers//withdrawals/blockchain',
    'http://x/v2/accounts/acc-1/transfers/withdrawals/blockchain',
  ]
  const refuseAll = async (when: string) => {
    for (const target of spellings) {
      const keys = await inspect.dbsize()
      const res = await signed('POST', target, { body })
      t.equal(res.status, 400, `${when}: ${target} refused (${res.body})`)
      t.equal(res.json?.errorType, 'bad-request')
      t.equal(await inspect.dbsize(), keys, `${when}: ${target} wrote nothing to Redis (no nonce, no idempotency record)`)
    }
  }
  await refuseAll('before the canonical request')
  t.equal(payouts, before.payouts, 'no payout from a non-canonical spelling')
  t.equal(await idemKeys(), before.idem, 'no idempotency record from a non-canonical spelling')

  const first = await signed('POST', '/v2/accounts/acc-1/transfers/withdrawals/blockchain', { body })
  t.equal(first.status, 201, first.body)
  t.equal(payouts, before.payouts + 1, 'the canonical spelling executes once')
  const recorded = await idemKeys()
  t.ok(recorded > before.idem, 'and its idempotency record is in Redis')

  await refuseAll('after the canonical request')
  const retry = await signed('POST', '/v2/accounts/acc-1/transfers/withdrawals/blockchain', { body })
  t.same([retry.status, retry.body], [first.status, first.body], 'a canonical retry gets the stored answer')
  t.equal(payouts, before.payouts + 1, 'the backend saw exactly one payout POST')
  t.equal(backend.requests.filter((r) => r.method === 'POST' && r.url === '/payouts' && r.body.toString().includes('"5"')).length, 1)
})
