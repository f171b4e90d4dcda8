import t from 'tap'
import { createHmac, randomUUID } from 'node:crypto'
import { createSigner } from '../../src/signing/index.js'
import { Backend } from '../helpers/backend.js'
import { startGateway } from '../helpers/gateway.js'
import { head, RawConnection, rawSend, type RawAnswer } from '../helpers/raw.js'
import { RedisServer } from '../helpers/redis.js'

/** The assertions a test or subtest offers. */
type Assert = Pick<typeof t, 'equal' | 'same' | 'ok'>

/**
 * Rows 6, 9, 10 and 14 (bodies and queries) of the security review: what the
 * signature covers is bytes, what the backend acts on is a value, so a body
 * whose bytes could mean two values, that costs super-linear work before its
 * signature is known, or that never finishes arriving must be refused before
 * the backend, and before the idempotency store, sees it.
 */
const redis = await RedisServer.start()
const inspect = redis.client()
let payouts = 0
const backend = await Backend.start((req) => {
  if (req.url === '/payouts') payouts++
  if (req.url.startsWith('/accounts-of/')) return { body: { accounts: Array.from({ length: 30 }, (_, i) => ({ account_id: `acc-${i}` })) } }
  return { status: req.url === '/payouts' ? 201 : 200, body: { payout_id: `p-${payouts}`, url: req.url } }
})
const mapping = `routes:
  - route: POST /accounts/{accountId}/transfers/withdrawals/blockchain
    upstream: { post: /payouts, body: { account: $params.accountId, amount: $body.amount } }
    status: 201
    response: { id: $body.payout_id }
  - route: GET /accounts
    upstream: { get: '/accounts-of/{subject}' }
    paginate: accounts
    response: { accounts: { $each: $body.accounts, id: $item.account_id } }
`
const hmacScheme = { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' }
const gateway = await startGateway({
  config: {
    server: { host: '127.0.0.1', port: 0, basePath: '/v2', requestTimeout: '1s', headersTimeout: '1s' },
    redis: { url: redis.url },
    auth: { scheme: hmacScheme, credentials: [{ file: 'credentials.yaml' }] },
    upstream: { url: backend.url, passthrough: '/nl' },
    mappings: ['mappings.yaml'],
  },
  credentials: [
    { id: 'plain', apiKey: 'plain-key', secret: { env: 'S' }, subject: 'u' },
    { id: 'b58', apiKey: 'b58-key', secret: { env: 'S' }, subject: 'u', scheme: { preEncoding: 'base58' } },
    { id: 'url', apiKey: 'url-key', secret: { env: 'S' }, subject: 'u', scheme: { preEncoding: 'url-encoded' } },
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
const WITHDRAW = '/v2/accounts/acc-1/transfers/withdrawals/blockchain'

interface Sent {
  method?: string
  target?: string
  body?: Buffer | string
  apiKey?: string
  /** The signature header; by default an HMAC over the message with the plain pre-encoding. */
  signature?: (message: Buffer) => string
  headers?: Record<string, string | number>
}

function message(timestamp: string, nonce: string, method: string, target: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${timestamp}${nonce}${method}${target.slice(3)}`), body])
}

const plainHmac = (m: Buffer) => createHmac('sha256', 'secret').update(m).digest('base64')

/** The request head and body bytes, signed over exactly those bytes. */
function build({ method = 'POST', target = WITHDRAW, body = '', apiKey = 'plain-key', signature = plainHmac, headers = {} }: Sent): { head: string; body: Buffer } {
  const bytes = Buffer.from(body)
  const timestamp = String(Date.now())
  const nonce = randomUUID()
  const auth = { 'X-FBAPI-KEY': apiKey, 'X-FBAPI-TIMESTAMP': timestamp, 'X-FBAPI-NONCE': nonce, 'X-FBAPI-SIGNATURE': signature(message(timestamp, nonce, method, target, bytes)) }
  const length: Record<string, number> = bytes.length > 0 && headers['Transfer-Encoding'] === undefined ? { 'Content-Length': bytes.length } : {}
  return { head: head(method, target, { ...auth, 'Content-Type': 'application/json', Connection: 'close', ...length, ...headers }), body: bytes }
}

async function sendSigned(options: Sent): Promise<RawAnswer> {
  const { head: h, body } = build(options)
  return rawSend(port, Buffer.concat([Buffer.from(h, 'latin1'), body]))
}

async function counter(name: string, reason: string): Promise<number> {
  const metric = await gateway.metrics.registry.getSingleMetric(name)?.get()
  return metric?.values.filter((v) => v.labels.reason === reason).reduce((sum, v) => sum + v.value, 0) ?? 0
}

/** Runs `act`, then checks the backend saw nothing and Redis got at most the request's nonce (never an idempotency record). */
async function nothingDownstream(t: Assert, what: string, act: () => Promise<RawAnswer>, { nonce }: { nonce: boolean }): Promise<RawAnswer> {
  const before = { requests: backend.requests.length, keys: await inspect.keys('*') }
  const res = await act()
  t.equal(backend.requests.length, before.requests, `${what}: nothing reached the backend`)
  const added = (await inspect.keys('*')).filter((key) => !before.keys.includes(key))
  t.same(added.map((key) => key.replace(/:[^:]*$/, ':…')), nonce ? ['nlgw:nonce:u:…'] : [], `${what}: ${nonce ? 'only the nonce' : 'nothing'} written to Redis`)
  return res
}

t.test('controls: the set-up accepts well-formed requests from each credential', async (t) => {
  const body = JSON.stringify({ amount: '1' })
  t.equal((await sendSigned({ body })).status, 201, 'plain')
  const b58 = createSigner({ algorithm: 'hmac', hash: 'sha256', preEncoding: 'base58', postEncoding: 'base64' }, 'secret')
  t.equal((await sendSigned({ body, apiKey: 'b58-key', signature: (m) => b58.sign(m) })).status, 201, 'base58')
  t.equal((await sendSigned({ body, apiKey: 'url-key', signature: urlEncodedHmac })).status, 201, 'url-encoded, signed by the hand-written encoder below')
  t.equal((await sendSigned({ method: 'GET', target: '/v2/accounts?limit=2' })).json?.accounts instanceof Array, true, 'a paginated list')
})

t.test('row 6: a base58 credential gets the lower body limit, refused before any verification', async (t) => {
  const b58 = createSigner({ algorithm: 'hmac', hash: 'sha256', preEncoding: 'base58', postEncoding: 'base64' }, 'secret')
  const padded = (size: number) => {
    const prefix = '{"amount":"1","pad":"'
    return prefix + 'x'.repeat(size - prefix.length - 2) + '"}'
  }
  // The limit (auth.base58BodyLimit, 8192 by default) counts the signed endpoint with the body: base58 costs the whole message.
  const limit = 8192 - WITHDRAW.slice('/v2'.length).length
  t.equal(padded(limit).length, limit)
  const atLimit = await sendSigned({ body: padded(limit), apiKey: 'b58-key', signature: (m) => b58.sign(m) })
  t.equal(atLimit.status, 201, `${limit} bytes (8192 with the endpoint) are accepted: ${atLimit.body}`)

  const tooLarge = { message: 'Request body too large', errorType: 'schema-error', requestPart: 'body' }
  const verifiedBefore = await counter('nlgw_auth_refusals_total', 'bad_signature')
  const refusedBefore = await counter('nlgw_request_refusals_total', 'body_too_large')
  for (const [what, signature] of [['a valid signature', (m: Buffer) => b58.sign(m)], ['a garbage signature', () => 'AAAA']] as const) {
    const res = await nothingDownstream(t, `Content-Length ${limit + 1}, ${what}`, () => sendSigned({ body: padded(limit + 1), apiKey: 'b58-key', signature }), { nonce: false })
    t.same([res.status, res.json], [413, tooLarge], `${limit + 1} bytes with Content-Length and ${what}: 413`)
  }

  // Declared too large: refused on the head alone, before a byte of the body is sent.
  const declared = build({ body: padded(9000), apiKey: 'b58-key', signature: () => 'AAAA' })
  const connection = await RawConnection.open(port)
  await connection.write(declared.head)
  const early = await connection.answer(2000)
  await connection.close()
  t.equal(early.status, 413, 'a declared Content-Length over the limit is refused before the body is sent')

  // Chunked: no length declared; reading stops at the first byte over the limit.
  for (const total of [limit + 1, 200_000]) {
    const chunked = build({ body: padded(total), apiKey: 'b58-key', signature: () => 'AAAA', headers: { 'Transfer-Encoding': 'chunked' } })
    const res = await nothingDownstream(
      t,
      `chunked ${total} bytes`,
      async () => {
        const c = await RawConnection.open(port)
        try {
          await c.write(chunked.head)
          for (let i = 0; i < chunked.body.length && !c.isClosed && c.received === ''; i += 4096) {
            const chunk = chunked.body.subarray(i, i + 4096)
            await c.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])).catch(() => undefined)
          }
          if (!c.isClosed && c.received === '') await c.write('0\r\n\r\n').catch(() => undefined)
          return await c.answer()
        } finally {
          await c.close()
        }
      },
      { nonce: false },
    )
    t.same([res.status, res.json], [413, tooLarge], `chunked ${total} bytes: 413`)
  }
  t.equal(await counter('nlgw_auth_refusals_total', 'bad_signature'), verifiedBefore, 'no signature was verified for any of them')
  t.equal(await counter('nlgw_request_refusals_total', 'body_too_large'), refusedBefore + 5, 'each counted as body_too_large')

  const plain = await sendSigned({ body: padded(9000) })
  t.equal(plain.status, 201, 'the same 9000-byte body from a plain credential is within server.bodyLimit')
})

/** encodeURIComponent, byte by byte, written out here: unreserved marks kept, every other byte %XX. */
function percentEncodeBytes(bytes: Buffer): Buffer {
  const keep = /[A-Za-z0-9\-_.!~*'()]/
  let out = ''
  for (const byte of bytes) out += byte < 0x80 && keep.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  return Buffer.from(out, 'latin1')
}

function urlEncodedHmac(m: Buffer): string {
  return createHmac('sha256', 'secret').update(percentEncodeBytes(m)).digest('base64')
}

t.test('row 10: the url-encoded pre-encoding covers the exact body bytes', async (t) => {
  const text = Buffer.from('{"amount":"1","note":"Zürich €"}')
  t.equal(percentEncodeBytes(text).toString('latin1'), encodeURIComponent(text.toString('utf8')), 'the hand-written encoder agrees with encodeURIComponent on UTF-8')
  t.equal((await sendSigned({ body: text, apiKey: 'url-key', signature: urlEncodedHmac })).status, 201, 'control: a UTF-8 body signed that way is accepted')

  // One signature over \xff\xfe; both byte pairs are invalid UTF-8 and decode to the same two U+FFFD as text.
  const timestamp = String(Date.now())
  const nonce = randomUUID()
  const signed = Buffer.from([0xff, 0xfe])
  const sig = urlEncodedHmac(message(timestamp, nonce, 'POST', WITHDRAW, signed))
  const request = (body: Buffer) => {
    const h = head('POST', WITHDRAW, { 'X-FBAPI-KEY': 'url-key', 'X-FBAPI-TIMESTAMP': timestamp, 'X-FBAPI-NONCE': nonce, 'X-FBAPI-SIGNATURE': sig, 'Content-Type': 'application/json', 'Content-Length': body.length, Connection: 'close' })
    return rawSend(port, Buffer.concat([Buffer.from(h, 'latin1'), body]))
  }
  const before = { requests: backend.requests.length, keys: await inspect.dbsize() }
  const swapped = await request(Buffer.from([0x80, 0x81]))
  t.same([swapped.status, swapped.json], [401, { message: 'Signature verification failed', errorType: 'unauthorized', requestPart: 'headers' }], 'bytes \\x80\\x81 under a signature of \\xff\\xfe: bad signature')
  t.equal(await inspect.dbsize(), before.keys, 'the refused request recorded no nonce')
  const genuine = await request(signed)
  t.same([genuine.status, genuine.json], [400, { message: 'Request body is not valid UTF-8', errorType: 'schema-error', requestPart: 'body' }], 'the signed bytes themselves: signature valid, body not UTF-8: invalid_json')
  t.equal(backend.requests.length, before.requests, 'nothing reached the backend')
})

t.test('row 9: 5,000 nested arrays beside an idempotencyKey: 400 schema-error about nesting, not 500', async (t) => {
  for (const depth of [33, 5000, 30_000]) {
    const body = `{"idempotencyKey":"${randomUUID()}","amount":"1","x":${'['.repeat(depth)}${']'.repeat(depth)}}`
    for (const target of [WITHDRAW, '/v2/accounts/acc-1/transfers/withdrawals/fiat']) {
      const what = `depth ${depth} on ${target === WITHDRAW ? 'a mapped route' : 'passthrough'}`
      const res = await nothingDownstream(t, what, () => sendSigned({ target, body }), { nonce: true })
      t.same([res.status, res.json?.errorType, res.json?.requestPart], [400, 'schema-error', 'body'], `${what}: 400 schema-error`)
      t.match(res.json?.message, /nest/i, `${what}: the message says why (${res.json?.message})`)
    }
  }
  const fine = `{"idempotencyKey":"${randomUUID()}","amount":"1","x":${'['.repeat(31)}${']'.repeat(31)}}`
  t.equal((await sendSigned({ body: fine })).status, 201, 'control: 32 levels (the object and 31 arrays) are accepted')
})

t.test('row 14: bodies that mean two values, numbers a double cannot hold', async (t) => {
  const bodies: Array<[string, string]> = [
    ['duplicate key', '{"amount":"1","amount":"1000"}'],
    ['duplicate key, escaped spelling', '{"amount":"1","\\u0061mount":"1000"}'],
    ['duplicate key, both escaped differently', '{"\\u0061mount":"1","am\\u006Funt":"1000"}'],
    ['duplicate idempotencyKey', `{"idempotencyKey":"${randomUUID()}","amount":"1","idempotencyKey":"${randomUUID()}"}`],
    ['duplicate key in a nested object', '{"amount":"1","meta":{"a":1,"a":2}}'],
    ['1e400', '{"amount":"1","fee":1e400}'],
    ['-1e400', '{"amount":"1","fee":-1e400}'],
    ['2^53 + 1', '{"amount":"1","fee":9007199254740993}'],
    ['1e-400 (underflows to 0)', '{"amount":"1","fee":1e-400}'],
  ]
  for (const [what, body] of bodies) {
    for (const target of [WITHDRAW, '/v2/accounts/acc-1/transfers/withdrawals/fiat']) {
      const where = `${what} on ${target === WITHDRAW ? 'a mapped route' : 'passthrough'}`
      const before = payouts
      const res = await nothingDownstream(t, where, () => sendSigned({ target, body }), { nonce: true })
      t.same([res.status, res.json?.errorType, res.json?.requestPart], [400, 'schema-error', 'body'], `${where}: 400 schema-error (${res.json?.message})`)
      t.equal(payouts, before, `${where}: no payout`)
    }
  }
  t.equal((await sendSigned({ body: '{"amount":"1","fee":9007199254740991}' })).status, 201, 'control: 2^53 − 1 is exact and accepted')
})

t.test('row 14: limit on a paginated mapped route, without the OpenAPI document', async (t) => {
  // A duplicate parameter is refused with the target, before authentication (no nonce recorded); the rest after it.
  const queries: Array<[string, { propertyName: string; requestPart: string }]> = [
    ['limit=-1', { propertyName: '/limit', requestPart: 'querystring' }],
    ['limit=abc', { propertyName: '/limit', requestPart: 'querystring' }],
    ['limit=0', { propertyName: '/limit', requestPart: 'querystring' }],
    ['limit=201', { propertyName: '/limit', requestPart: 'querystring' }],
    ['limit=1.5', { propertyName: '/limit', requestPart: 'querystring' }],
    ['limit=1e1', { propertyName: '/limit', requestPart: 'querystring' }],
    ['limit=', { propertyName: '/limit', requestPart: 'querystring' }],
    ['limit=1&limit=2', { propertyName: '/limit', requestPart: 'querystring' }],
    ['limit=2&%6Cimit=200', { propertyName: '/limit', requestPart: 'querystring' }],
    ['startingAfter=acc-1&endingBefore=acc-3', { propertyName: '/startingAfter', requestPart: 'querystring' }],
  ]
  for (const [query, expected] of queries) {
    const res = await nothingDownstream(t, query, () => sendSigned({ method: 'GET', target: `/v2/accounts?${query}` }), { nonce: !/limit=.*(limit|%6Cimit)=/.test(query) })
    t.equal(res.status, 400, `${query}: 400 (${res.body})`)
    t.match(res.json, { errorType: /^(schema-error|schema-property-error|bad-request)$/, ...expected }, `${query}: names the parameter`)
  }
  const page = await sendSigned({ method: 'GET', target: '/v2/accounts?limit=3' })
  t.same(page.json, { accounts: [{ id: 'acc-0' }, { id: 'acc-1' }, { id: 'acc-2' }] }, 'control: limit=3 gives three')
})

t.test('row 14: a body slower than server.requestTimeout gets 408, not 400, and goes nowhere', async (t) => {
  const body = JSON.stringify({ amount: '1', pad: 'x'.repeat(100) })
  const slow = build({ body })
  const res = await nothingDownstream(
    t,
    'slow body',
    async () => {
      const c = await RawConnection.open(port)
      try {
        await c.write(slow.head)
        await c.write(slow.body.subarray(0, 10))
        // The rest never comes: the gateway must give up on its own (requestTimeout 1 s).
        return await c.answer(5000)
      } finally {
        await c.close()
      }
    },
    { nonce: false },
  )
  t.same([res.status, res.json], [408, { message: 'Request not received in time', errorType: 'bad-request' }], `408 Request Timeout (${res.raw.split('\r\n')[0]})`)
})
