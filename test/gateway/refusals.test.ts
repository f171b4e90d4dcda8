import t from 'tap'
import { Backend } from '../helpers/backend.js'
import { send, signature, type SendOptions } from '../helpers/client.js'
import { startGateway, hmac } from '../helpers/gateway.js'
import { RedisServer } from '../helpers/redis.js'

/**
 * Every refusal path with the exact answer the spec and the official validator
 * expect. The expectations are written out here, not read from the gateway's
 * catalogue, so a wrong catalogue entry fails this test.
 */
const redis = await RedisServer.start()
const backend = await Backend.start()
const gateway = await startGateway({
  config: {
    redis: { url: redis.url },
    auth: { ...hmac.auth, timestampWindow: '2m' },
    upstream: { url: backend.url, passthrough: '/nl' },
  },
  credentials: [
    { id: 'main', apiKey: 'test-key', secret: { env: 'MAIN_SECRET' }, subject: 'u-1', accounts: ['acc-1'] },
    { id: 'off', apiKey: 'disabled-key', secret: { env: 'MAIN_SECRET' }, subject: 'u-2', enabled: false },
  ],
  env: { MAIN_SECRET: 'main-secret' },
})
const key = { hmac: 'main-secret', hash: 'sha256' } as const
const inspect = redis.client()
t.teardown(async () => {
  inspect.disconnect()
  await gateway.close()
  await backend.close()
  await redis.stop()
})

interface Row {
  name: string
  request: Partial<SendOptions>
  status: number
  errorType: string
  propertyName?: string
  requestPart?: string
  reason: string
  counter: string
  /** Authenticated, so its nonce is recorded (and cannot be replayed) even though it is refused. */
  recordsNonce?: boolean
}
const used = await send(gateway.url, { path: '/v2/accounts/acc-1', key })

/** A genuine signature, with this request's timestamp and nonce, over a different target. */
function otherPath(): Partial<SendOptions> {
  const timestamp = String(Date.now())
  const nonce = 'other-path-nonce'
  return { timestamp, nonce, headers: { 'x-fbapi-signature': signature(key, Buffer.from(`${timestamp}${nonce}GET/accounts/acc-1/balances`)) } }
}
t.equal(used.status, 200, 'a valid request passes')

const rows: Row[] = [
  { name: 'missing API key', request: { headers: { 'x-fbapi-key': undefined } }, status: 401, errorType: 'unauthorized', propertyName: 'X-FBAPI-KEY', requestPart: 'headers', reason: 'missing_header', counter: 'nlgw_auth_refusals_total' },
  { name: 'empty API key', request: { headers: { 'x-fbapi-key': '' } }, status: 401, errorType: 'unauthorized', propertyName: 'X-FBAPI-KEY', requestPart: 'headers', reason: 'missing_header', counter: 'nlgw_auth_refusals_total' },
  { name: 'empty signature', request: { headers: { 'x-fbapi-signature': '' } }, status: 400, errorType: 'schema-property-error', propertyName: 'X-FBAPI-SIGNATURE', requestPart: 'headers', reason: 'missing_header', counter: 'nlgw_auth_refusals_total' },
  { name: 'missing nonce', request: { headers: { 'x-fbapi-nonce': undefined } }, status: 400, errorType: 'schema-property-error', propertyName: 'X-FBAPI-NONCE', requestPart: 'headers', reason: 'missing_header', counter: 'nlgw_auth_refusals_total' },
  { name: 'missing timestamp', request: { headers: { 'x-fbapi-timestamp': undefined } }, status: 400, errorType: 'schema-property-error', propertyName: 'X-FBAPI-TIMESTAMP', requestPart: 'headers', reason: 'missing_header', counter: 'nlgw_auth_refusals_total' },
  { name: 'timestamp 0 (as the validator sends)', request: { timestamp: '0' }, status: 400, errorType: 'schema-property-error', propertyName: 'X-FBAPI-TIMESTAMP', requestPart: 'headers', reason: 'bad_timestamp', counter: 'nlgw_auth_refusals_total' },
  { name: 'timestamp too old', request: { timestamp: String(Date.now() - 3 * 60_000) }, status: 400, errorType: 'schema-property-error', propertyName: 'X-FBAPI-TIMESTAMP', requestPart: 'headers', reason: 'bad_timestamp', counter: 'nlgw_auth_refusals_total' },
  { name: 'timestamp too far ahead', request: { timestamp: String(Date.now() + 3 * 60_000) }, status: 400, errorType: 'schema-property-error', propertyName: 'X-FBAPI-TIMESTAMP', requestPart: 'headers', reason: 'bad_timestamp', counter: 'nlgw_auth_refusals_total' },
  { name: 'non-numeric timestamp', request: { timestamp: '2023-08-09T18:43:44Z' }, status: 400, errorType: 'schema-property-error', propertyName: 'X-FBAPI-TIMESTAMP', requestPart: 'headers', reason: 'malformed_header', counter: 'nlgw_auth_refusals_total' },
  { name: 'nonce over 128 characters', request: { nonce: 'n'.repeat(129) }, status: 400, errorType: 'schema-property-error', propertyName: 'X-FBAPI-NONCE', requestPart: 'headers', reason: 'malformed_header', counter: 'nlgw_auth_refusals_total' },
  { name: 'unknown API key', request: { apiKey: 'who-is-this' }, status: 401, errorType: 'unauthorized', propertyName: 'X-FBAPI-KEY', requestPart: 'headers', reason: 'unknown_key', counter: 'nlgw_auth_refusals_total' },
  { name: '10 KB API key', request: { apiKey: 'k'.repeat(10_000) }, status: 401, errorType: 'unauthorized', propertyName: 'X-FBAPI-KEY', requestPart: 'headers', reason: 'unknown_key', counter: 'nlgw_auth_refusals_total' },
  { name: 'disabled API key', request: { apiKey: 'disabled-key' }, status: 401, errorType: 'unauthorized', propertyName: 'X-FBAPI-KEY', requestPart: 'headers', reason: 'disabled_key', counter: 'nlgw_auth_refusals_total' },
  { name: 'signature by another secret', request: { key: { hmac: 'guess', hash: 'sha256' } }, status: 401, errorType: 'unauthorized', requestPart: 'headers', reason: 'bad_signature', counter: 'nlgw_auth_refusals_total' },
  { name: 'signature with another hash', request: { key: { hmac: 'main-secret', hash: 'sha512' } }, status: 401, errorType: 'unauthorized', requestPart: 'headers', reason: 'bad_signature', counter: 'nlgw_auth_refusals_total' },
  { name: 'signature not base64', request: { headers: { 'x-fbapi-signature': '%%%' } }, status: 401, errorType: 'unauthorized', requestPart: 'headers', reason: 'bad_signature', counter: 'nlgw_auth_refusals_total' },
  { name: '10 KB signature', request: { headers: { 'x-fbapi-signature': 'A'.repeat(10_000) } }, status: 401, errorType: 'unauthorized', requestPart: 'headers', reason: 'bad_signature', counter: 'nlgw_auth_refusals_total' },
  { name: 'genuine signature of another path', request: otherPath(), status: 401, errorType: 'unauthorized', requestPart: 'headers', reason: 'bad_signature', counter: 'nlgw_auth_refusals_total' },
  { name: 'replayed nonce', request: { nonce: used.nonce, timestamp: used.timestamp }, status: 401, errorType: 'unauthorized', requestPart: 'headers', reason: 'replayed_nonce', counter: 'nlgw_auth_refusals_total' },
  { name: 'account outside the credential scope', request: { path: '/v2/accounts/acc-2' }, status: 404, errorType: 'not-found', reason: 'account_scope', counter: 'nlgw_auth_refusals_total', recordsNonce: true },
  { name: 'unknown route', request: { path: '/v1/accounts' }, status: 404, errorType: 'not-found', reason: 'no_route', counter: 'nlgw_request_refusals_total' },
  { name: 'encoded ../ in the path', request: { path: '/v2/accounts/%2E%2E/admin' }, status: 400, errorType: 'bad-request', requestPart: 'params', reason: 'non_canonical_target', counter: 'nlgw_request_refusals_total' },
  { name: 'literal .. in the path', request: { path: '/v2/accounts/../admin' }, status: 400, errorType: 'bad-request', requestPart: 'params', reason: 'dot_segment', counter: 'nlgw_request_refusals_total' },
  { name: 'body over the limit', request: { method: 'POST', path: '/v2/accounts/acc-1/transfers/withdrawals/blockchain', body: JSON.stringify({ pad: 'x'.repeat(70_000) }) }, status: 413, errorType: 'schema-error', requestPart: 'body', reason: 'body_too_large', counter: 'nlgw_request_refusals_total' },
]

async function count(counter: string, reason: string): Promise<number> {
  const metric = await gateway.metrics.registry.getSingleMetric(counter)?.get()
  return metric?.values.find((v) => v.labels.reason === reason)?.value ?? 0
}

for (const row of rows) {
  t.test(row.name, async (t) => {
    const before = { backend: backend.requests.length, keys: await inspect.dbsize(), counted: await count(row.counter, row.reason) }
    const options: SendOptions = { path: '/v2/accounts/acc-1', key, ...row.request }
    const res = await send(gateway.url, options)
    t.equal(res.status, row.status, 'status')
    const body = res.json
    t.equal(body.errorType, row.errorType, 'errorType')
    t.equal(body.propertyName, row.propertyName, 'propertyName')
    t.equal(body.requestPart, row.requestPart, 'requestPart')
    t.type(body.message, 'string')
    t.notMatch(res.text, /at \w+ \(|\.js:\d+|stack/i, 'no stack trace in the body')
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    t.equal(backend.requests.length, before.backend, 'nothing reached the backend')
    t.equal(await inspect.dbsize(), before.keys + (row.recordsNonce ? 1 : 0), row.recordsNonce ? 'only the nonce written to Redis' : 'nothing written to Redis')
    t.equal(await count(row.counter, row.reason), before.counted + 1, `counted as ${row.counter}{reason="${row.reason}"}`)
  })
}
