import t from 'tap'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { stringify } from 'yaml'
import { loadConfig } from '../../src/config/load.js'
import { ConfigError, formatProblem } from '../../src/config/problems.js'
import { createGateway } from '../../plugins/gateway.js'
import { Backend } from '../helpers/backend.js'
import { hmac } from '../helpers/gateway.js'
import { head, RawConnection, rawSend, type RawAnswer } from '../helpers/raw.js'

/** The assertions a test or subtest offers. */
type Assert = Pick<typeof t, 'equal' | 'same' | 'ok'>

/**
 * Rows 4, 5, 12 and 14 (outbound side) of the security review: the
 * Exchange → Fireblocks listener signs with the exchange's own key, so
 * whatever it refuses must never be signed or forwarded. "Fireblocks" here is
 * a real HTTP server on loopback that records every request it receives.
 */
const TOKEN = 'outbound-token-0123456789'
const dir = t.testdir({ 'credentials.yaml': stringify({ credentials: [] }), 'fb.secret': 'fb-secret' })
const fireblocks = await Backend.start((req) => ({ status: 200, body: { ok: true, url: req.url } }))
t.teardown(() => fireblocks.close())

/** A config file with an outbound section (merged over a valid one), loaded as production loads it. */
function configWith(outbound: Record<string, unknown>, name: string): string {
  const file = join(dir, `${name}.yaml`)
  writeFileSync(
    file,
    stringify({
      auth: hmac.auth,
      upstream: { url: 'http://127.0.0.1:9' },
      outbound: {
        target: `${fireblocks.url}/fb`,
        apiKey: 'exchange-key',
        scheme: { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' },
        key: { file: 'fb.secret' },
        ...outbound,
      },
    }),
  )
  return file
}

function problemsOf(file: string, env: Record<string, string> = {}): string[] {
  try {
    loadConfig(file, env)
    return []
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return err.problems.map((p) => formatProblem(p).replace(/^[^ ]*: /, ''))
  }
}

t.test('row 4 (config): deny by default; a listener off loopback needs a token', async (t) => {
  t.same(problemsOf(configWith({ host: '127.0.0.1' }, 'no-allow')), ['outbound: missing required key "allow"'], 'outbound.allow is required')
  const empty = loadConfig(configWith({ allow: [] }, 'empty-allow'), {})
  t.same(empty.outbound?.allow, [], 'an empty allow-list loads (and forwards nothing, below)')
  for (const host of ['0.0.0.0', '::', '10.0.0.5', '::ffff:127.0.0.1', '127.1', 'localhost.example.com']) {
    t.match(problemsOf(configWith({ host, allow: ['GET /collateral/**'] }, `open-${host.replace(/\W/g, '_')}`)), [new RegExp(`^outbound.host: listening on ${host.replace(/[.*]/g, '\\$&')} needs outbound.token`)], `${host} without a token is a config error`)
  }
  for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost']) {
    t.same(problemsOf(configWith({ host, allow: ['GET /collateral/**'] }, `loop-${host.replace(/\W/g, '_')}`)), [], `${host} is loopback: no token needed`)
  }
  const withToken = configWith({ host: '0.0.0.0', allow: ['GET /collateral/**'], token: { env: 'TOKEN' } }, 'token')
  t.same(problemsOf(withToken, { TOKEN: 'short' }), ['outbound.token: the token must be at least 16 characters'])
  t.same(problemsOf(withToken, {}), ['outbound.token: environment variable TOKEN is not set'], 'a token that cannot be read is not silently dropped')
  t.equal(loadConfig(withToken, { TOKEN }).outbound?.token, TOKEN)
})

/** A gateway whose outbound listener is on a loopback port; `fireblocks` counts what it forwarded. */
async function outbound(t: { teardown: (fn: () => unknown) => void }, extra: Record<string, unknown>, name: string): Promise<{ port: number; url: string; metrics: () => Promise<string[]> }> {
  const gateway = await createGateway(loadConfig(configWith(extra, name), { TOKEN }), { logger: false })
  t.teardown(() => gateway.close())
  await gateway.outbound?.listen({ host: '127.0.0.1', port: 0 })
  const port = (gateway.outbound?.server.address() as { port: number }).port
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    metrics: async () =>
      ((await gateway.metrics.registry.getSingleMetric('nlgw_outbound_requests_total')?.get())?.values ?? []).filter((v) => v.value > 0).map((v) => `${v.labels.route} ${v.labels.status}=${v.value}`).sort(),
  }
}

const bearer = { Authorization: `Bearer ${TOKEN}` }

function request(port: number, method: string, target: string, headers: Record<string, string | number> = {}, body = ''): Promise<RawAnswer> {
  const length: Record<string, number> = body === '' ? {} : { 'Content-Length': Buffer.byteLength(body) }
  return rawSend(port, head(method, target, { Connection: 'close', ...headers, ...length }) + body)
}

/** Sends and checks the answer is the refusal given, and that Fireblocks saw nothing. */
async function refused(t: Assert, port: number, what: string, [method, target, headers, body]: [string, string, Record<string, string>?, string?], status: number, errorType: string): Promise<RawAnswer> {
  const before = fireblocks.requests.length
  const res = await request(port, method, target, headers, body)
  t.equal(res.status, status, `${what}: ${status} (${res.body})`)
  t.equal(res.json?.errorType, errorType, `${what}: errorType ${errorType}`)
  t.equal(fireblocks.requests.length, before, `${what}: nothing signed or forwarded`)
  return res
}

t.test('row 4 (listener): bearer token, methods, allow-list, deny by default', async (t) => {
  const gw = await outbound(t, { allow: ['GET /collateral/transactions/{id}', 'POST /collateral/settlements'], token: { env: 'TOKEN' } }, 'listener')

  const ok = await request(gw.port, 'GET', '/collateral/transactions/tx-1', bearer)
  t.equal(ok.status, 200, `with the token an allowed endpoint is forwarded (${ok.body})`)
  const seen = fireblocks.requests.at(-1)
  t.equal(seen?.url, '/fb/collateral/transactions/tx-1')
  t.equal(seen?.headers['x-fbapi-key'], 'exchange-key', 'signed with the exchange credential')
  t.equal(seen?.headers.authorization, undefined, 'the gateway token is not passed on to Fireblocks')

  const unauthorized = { message: 'Outbound calls need the gateway token (Authorization: Bearer …)', errorType: 'unauthorized', propertyName: 'Authorization', requestPart: 'headers' }
  const tokens: Array<[string, Record<string, string>]> = [
    ['no Authorization header', {}],
    ['a wrong token', { Authorization: 'Bearer outbound-token-0123456780' }],
    ['the token with a suffix', { Authorization: `Bearer ${TOKEN}x` }],
    ['a prefix of the token', { Authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ['the token as Basic credentials', { Authorization: `Basic ${TOKEN}` }],
    ['the token without a scheme', { Authorization: TOKEN }],
    ['an empty bearer', { Authorization: 'Bearer ' }],
  ]
  for (const [what, headers] of tokens) {
    const res = await refused(t, gw.port, what, ['GET', '/collateral/transactions/tx-1', headers], 401, 'unauthorized')
    t.same(res.json, unauthorized, `${what}: the Network Link 401 body`)
  }
  await refused(t, gw.port, 'POST without the token', ['POST', '/collateral/settlements', {}, '{"amount":"1"}'], 401, 'unauthorized')

  for (const method of ['TRACE', 'OPTIONS', 'HEAD']) {
    const before = fireblocks.requests.length
    const res = await request(gw.port, method, '/collateral/transactions/tx-1', bearer)
    t.equal(res.status, 405, `${method} refused with 405`)
    if (method !== 'HEAD') t.same(res.json, { message: `${method} is not forwarded to Fireblocks`, errorType: 'bad-request' })
    t.equal(fireblocks.requests.length, before, `${method}: nothing forwarded`)
  }
  // CONNECT takes over the connection in Node; whatever the answer, no tunnel is opened and nothing is forwarded.
  const connection = await RawConnection.open(gw.port)
  const before = fireblocks.requests.length
  await connection.write(`CONNECT ${new URL(fireblocks.url).host} HTTP/1.1\r\nHost: ${new URL(fireblocks.url).host}\r\n${`Authorization: Bearer ${TOKEN}`}\r\n\r\n`)
  await connection.waitFor((text) => text.includes('\r\n\r\n'), 2000)
  t.notMatch(connection.received, /^HTTP\/1\.1 2/, `CONNECT is not tunnelled (${connection.received.split('\r\n')[0] || 'connection closed'})`)
  t.equal(fireblocks.requests.length, before, 'CONNECT: nothing forwarded')
  await connection.close()

  await refused(t, gw.port, 'an endpoint outside the allow-list', ['GET', '/vault/accounts', bearer], 403, 'bad-request')
  await refused(t, gw.port, 'an allowed path with another method', ['DELETE', '/collateral/transactions/tx-1', bearer], 403, 'bad-request')
  await refused(t, gw.port, 'below an allowed template', ['GET', '/collateral/transactions/tx-1/cancel', bearer], 403, 'bad-request')
  await refused(t, gw.port, 'a sibling of an allowed endpoint', ['POST', '/collateral/settlements2', bearer, '{}'], 403, 'bad-request')
  const counted = await gw.metrics()
  t.same(counted, ['GET /collateral/transactions/{id} 200=1', 'refused 401=8', 'refused 403=4', 'refused 405=3'], 'only the allowed request was signed and sent')

  const empty = await outbound(t, { allow: [] }, 'deny-all')
  await refused(t, empty.port, 'an empty allow-list', ['GET', '/collateral/transactions/tx-1'], 403, 'bad-request')
  await refused(t, empty.port, 'an empty allow-list, root', ['GET', '/'], 403, 'bad-request')
})

t.test('row 5: encoded traversal out of an allowed subtree is refused with 400, never forwarded', async (t) => {
  const gw = await outbound(t, { allow: ['* /collateral/**'], token: { env: 'TOKEN' } }, 'traversal')
  t.equal((await request(gw.port, 'GET', '/collateral/transactions/tx-1', bearer)).status, 200, 'control: the subtree is allowed')
  const targets = [
    '/collateral/..%2F..%2Fvault/accounts',
    '/collateral/..%2f..%2fvault/accounts',
    '/collateral/x%2F..%2F..%2Fvault',
    '/collateral/..\\vault',
    '/collateral/..\\..\\vault/accounts',
    '/collateral/..%5Cvault',
    '/collateral/..;/vault',
    '/collateral/..;x=1/vault',
    '/collateral/%2e%2e/vault',
    '/collateral/%2E%2E/%2E%2E/vault/accounts',
    '/collateral/.%2e/vault',
    '/collateral/%2e/vault',
    '/collateral/../vault',
    '/collateral/./../vault',
    '/collateral//../vault',
    '/collateral/..%00/vault',
    'http://evil.example/collateral/x',
    '//evil.example/collateral/x',
  ]
  for (const target of targets) {
    for (const method of ['GET', 'POST']) {
      await refused(t, gw.port, `${method} ${target}`, [method, target, bearer, method === 'POST' ? '{"amount":"1"}' : ''], 400, 'bad-request')
    }
  }
  t.same(fireblocks.requests.filter((r) => !r.url.startsWith('/fb/collateral/transactions/tx-1')), [], 'Fireblocks only ever saw the control request')
})

t.test('rows 12 and 14: Expect: 100-continue works, Connection-scoped headers stay behind', async (t) => {
  const gw = await outbound(t, { allow: ['POST /collateral/settlements'], token: { env: 'TOKEN' } }, 'continue')
  const body = '{"amount":"1.5","idempotencyKey":"k-1"}'
  const connection = await RawConnection.open(gw.port)
  t.teardown(() => connection.close())
  await connection.write(head('POST', '/collateral/settlements', { ...bearer, 'Content-Type': 'application/json', 'Content-Length': body.length, Expect: '100-continue', Connection: 'close' }))
  t.ok(await connection.waitFor((text) => /^HTTP\/1\.1 100 Continue\r\n\r\n/.test(text)), 'the listener asks for the body')
  await connection.write(body)
  const res = await connection.answer()
  t.equal(res.status, 200, `a body sent after 100 Continue is forwarded: ${res.body}`)
  const seen = fireblocks.requests.at(-1)
  t.equal(seen?.body.toString(), body, 'Fireblocks received the body')
  t.equal(seen?.headers.expect, undefined, 'the Expect header is not relayed')

  const hop = await request(gw.port, 'POST', '/collateral/settlements', { ...bearer, 'Content-Type': 'application/json', Connection: 'close, X-Hop, x-other-hop', 'X-Hop': 'hop-secret', 'X-Other-Hop': 'y', 'X-End': 'kept' }, body)
  t.equal(hop.status, 200, hop.body)
  const hopSeen = fireblocks.requests.at(-1)
  t.equal(hopSeen?.headers['x-hop'], undefined, 'a header named in Connection is not forwarded')
  t.equal(hopSeen?.headers['x-other-hop'], undefined, 'nor one named in lower case')
  t.equal(hopSeen?.headers['x-end'], 'kept', 'an end-to-end header is')
})
