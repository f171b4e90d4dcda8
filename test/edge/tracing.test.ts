import t from 'tap'
import { createServer } from 'node:http'
import { Writable } from 'node:stream'
import type { LoggerOptions } from 'pino'
import { request } from 'undici'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac, startGateway } from '../helpers/gateway.js'

/** A span as the OTLP/HTTP JSON encoding carries it (opentelemetry-proto, JSON mapping). */
interface ExportedSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  attributes?: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>
  status?: { code?: number }
}
const SERVER = 2
const CLIENT = 3

/** An OTLP/HTTP collector: decodes every export request it receives. */
const exports: Array<{ contentType: string | undefined; services: string[]; spans: ExportedSpan[] }> = []
const collector = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue: string } }> }; scopeSpans: Array<{ spans: ExportedSpan[] }> }>
    }
    exports.push({
      contentType: req.headers['content-type'],
      services: body.resourceSpans.flatMap((r) => r.resource.attributes.filter((a) => a.key === 'service.name').map((a) => a.value.stringValue)),
      spans: body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
    })
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
})
await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve))
const endpoint = `http://127.0.0.1:${(collector.address() as { port: number }).port}/v1/traces`

const backend = await Backend.start((req) => (req.url.startsWith('/fb/') ? { status: 201, body: { id: 's-1' } } : { body: { wallets: [], ok: true } }))
const mappings = `routes:
  - route: GET /accounts/{accountId}/balances
    upstream:
      - { name: user, get: "/users/{subject}" }
      - { name: wallets, get: "/w/{accountId}" }
    response: { balances: $body.wallets }
`
const lines: string[] = []
const stream = new Writable({
  write(chunk, _encoding, done) {
    lines.push(...chunk.toString().split('\n').filter(Boolean))
    done()
  },
})
const traced = (sampleRatio: number, logger?: LoggerOptions) =>
  startGateway({
    config: {
      auth: hmac.auth,
      upstream: { url: backend.url, passthrough: '/nl' },
      mappings: ['mappings.yaml'],
      tracing: { endpoint, sampleRatio, serviceName: `nlgw-${sampleRatio}` },
      outbound: { target: `${backend.url}/fb`, apiKey: 'exchange', scheme: hmac.auth.scheme, key: { env: 'S' }, allow: ['POST /collateral/settlements'] },
    },
    credentials: hmac.credentials,
    env: hmac.env,
    files: { 'mappings.yaml': mappings },
    ...(logger ? { logger } : {}),
  })
const clientTraceparent = '00-11111111111111111111111111111111-2222222222222222-01'
const backendTrace = { traceId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', spanId: 'bbbbbbbbbbbbbbbb' }
t.teardown(async () => {
  await backend.close()
  collector.close()
})

/**
 * The traffic: a mapped route with two backend calls, a passthrough carrying a client's own
 * traceparent, an outbound call carrying the backend's trace, and a request to a gateway that
 * records nothing. Closing the gateways flushes the batch: all is exported once they are closed.
 */
t.before(async () => {
  const gateway = await traced(1, { level: 'info', stream } as LoggerOptions)
  const unsampled = await traced(0)
  await gateway.outbound?.listen({ host: '127.0.0.1', port: 0 })
  const statuses = [
    (await send(gateway.url, { path: '/v2/accounts/a1/balances', key: hmac.key })).status,
    (await send(gateway.url, { path: '/v2/accounts', key: hmac.key, headers: { traceparent: clientTraceparent } })).status,
  ]
  const outboundUrl = `http://127.0.0.1:${(gateway.outbound?.server.address() as { port: number }).port}`
  const settled = await request(`${outboundUrl}/collateral/settlements`, { method: 'POST', body: '{"idempotencyKey":"k"}', headers: { traceparent: `00-${backendTrace.traceId}-${backendTrace.spanId}-01` } })
  await settled.body.dump()
  statuses.push(settled.statusCode, (await send(unsampled.url, { path: '/v2/accounts/a1/balances', key: hmac.key })).status)
  await gateway.close()
  await unsampled.close()
  if (statuses.join() !== '200,200,201,200') throw new Error(`traffic answered ${statuses.join()}`)
})

const spans: ExportedSpan[] = []
t.beforeEach(() => {
  if (spans.length === 0) spans.push(...exports.flatMap((e) => e.spans))
})
const byName = (name: string) => spans.filter((s) => s.name === name)
const one = (name: string) => {
  const found = byName(name)
  if (found.length !== 1) throw new Error(`${found.length} spans named ${name}: ${spans.map((s) => s.name).join(', ')}`)
  return found[0] as ExportedSpan
}
const attribute = (span: ExportedSpan, key: string) => {
  const value = span.attributes?.find((a) => a.key === key)?.value
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : Number(value.intValue))
}
const received = (path: string) => backend.requests.filter((r) => r.url === path)

t.test('the exporter speaks OTLP/HTTP JSON, for the configured service only', async (t) => {
  t.ok(exports.length > 0)
  t.ok(exports.every((e) => e.contentType === 'application/json'))
  t.same([...new Set(exports.flatMap((e) => e.services))], ['nlgw-1'], 'sampleRatio 0 records nothing')
})

t.test('a mapped request: one trace, authentication, nonce claim, mapping and each backend call under it', async (t) => {
  const root = one('GET /accounts/{accountId}/balances')
  t.equal(root.kind, SERVER)
  t.notOk(root.parentSpanId, 'a trace of its own')
  t.equal(attribute(root, 'http.response.status_code'), 200)
  const trace = spans.filter((s) => s.traceId === root.traceId)
  const parentOf = (name: string) => trace.find((s) => s.spanId === trace.find((c) => c.name === name)?.parentSpanId)?.name
  t.same(
    Object.fromEntries(['authenticate', 'verify signature', 'nonce claim', 'mapping'].map((name) => [name, parentOf(name)])),
    { authenticate: root.name, 'verify signature': root.name, 'nonce claim': 'verify signature', mapping: root.name },
  )
  const calls = trace.filter((s) => s.name === 'backend GET')
  t.equal(calls.length, 2, 'one span per backend call')
  const mapping = trace.find((s) => s.name === 'mapping') as ExportedSpan
  t.ok(calls.every((c) => c.parentSpanId === mapping.spanId && c.kind === CLIENT))
  t.same(
    [received('/users/u')[0], received('/w/a1')[0]].map((r) => r?.headers.traceparent),
    calls.map((c) => `00-${root.traceId}-${c.spanId}-01`),
    'each backend call carried its own span as traceparent',
  )
  const log = lines.map((l) => JSON.parse(l) as { msg: string; route?: string; traceId?: string }).find((l) => l.msg === 'request' && l.route === '/accounts/{accountId}/balances')
  t.equal(log?.traceId, root.traceId, 'the access log line names the trace')
})

t.test('passthrough: the backend gets the gateway span, never the client’s traceparent', async (t) => {
  // Unmapped, but a Network Link route all the same: named by its template, as the metrics label it.
  const root = one('GET /accounts')
  t.not(root.traceId, clientTraceparent.split('-')[1], 'the caller does not choose the trace')
  t.notOk(root.parentSpanId)
  const call = one('backend passthrough')
  t.equal(call.parentSpanId, root.spanId)
  t.equal(received('/nl/accounts')[0]?.headers.traceparent, `00-${root.traceId}-${call.spanId}-01`)
})

t.test('outbound: the backend trace goes on through the gateway to Fireblocks', async (t) => {
  const server = one('POST /collateral/settlements')
  t.equal(server.traceId, backendTrace.traceId)
  t.equal(server.parentSpanId, backendTrace.spanId)
  const attempt = one('fireblocks POST')
  t.equal(attempt.kind, CLIENT)
  t.equal(attempt.parentSpanId, server.spanId)
  t.equal(received('/fb/collateral/settlements')[0]?.headers.traceparent, `00-${backendTrace.traceId}-${attempt.spanId}-01`)
})

t.test('not sampled: nothing exported, and the backend is told so', async (t) => {
  const last = received('/w/a1').at(-1)
  t.match(last?.headers.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/)
  t.notOk(spans.some((s) => last?.headers.traceparent?.includes(s.traceId)))
})
