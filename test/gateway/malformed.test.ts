import t from 'tap'
import { connect } from 'node:net'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac, startGateway } from '../helpers/gateway.js'

const backend = await Backend.start()
const gateway = await startGateway({
  config: {
    auth: hmac.auth,
    upstream: { url: backend.url, passthrough: '/nl' },
  },
  credentials: hmac.credentials,
  env: hmac.env,
})
t.teardown(async () => {
  await gateway.close()
  await backend.close()
})
const port = (gateway.app.server.address() as { port: number }).port

/** Sends raw bytes, returns the raw answer. */
function raw(bytes: Buffer | string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes))
    let answer = ''
    socket.on('data', (d) => (answer += d.toString('latin1')))
    socket.on('end', () => resolve(answer))
    socket.on('error', reject)
  })
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1])

t.test('malformed HTTP is answered 4xx in Network Link format, never 5xx, never a stack trace', async (t) => {
  const answers = {
    'non-ASCII bytes in the request target': await raw(Buffer.concat([Buffer.from('GET /v2/acc/'), Buffer.from('é', 'utf8'), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')])),
    'garbage request line': await raw('\x00\x01 nonsense\r\n\r\n'),
    'header over 16 KB': await raw(`GET /v2/accounts HTTP/1.1\r\nHost: x\r\nX-FBAPI-KEY: ${'k'.repeat(20_000)}\r\n\r\n`),
    'invalid Content-Length': await raw('POST /v2/accounts HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'),
  }
  for (const [what, answer] of Object.entries(answers)) {
    const status = statusOf(answer)
    t.ok(status >= 400 && status < 500, `${what}: ${status}`)
    const body = answer.slice(answer.indexOf('\r\n\r\n') + 4)
    t.match(JSON.parse(body), { errorType: /^(bad-request|schema-error)$/, message: String }, what)
    t.notMatch(body, /\.js:\d+/, `${what}: no stack trace`)
  }
  t.equal(statusOf(answers['header over 16 KB']), 431)
  t.equal(backend.requests.length, 0)
})

t.test('hostile but parseable requests are refused with 4xx before the backend', async (t) => {
  const key = { hmac: 'other', hash: 'sha256' } as const
  const cases = [
    { what: '10 KB nonce', options: { path: '/v2/accounts', nonce: 'n'.repeat(10_000) } },
    { what: '10 KB timestamp', options: { path: '/v2/accounts', timestamp: '9'.repeat(10_000) } },
    { what: 'negative timestamp', options: { path: '/v2/accounts', timestamp: '-1' } },
    { what: 'invalid UTF-8 body', options: { method: 'POST', path: '/v2/accounts/acc-1/transfers/withdrawals/blockchain', body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) } },
    { what: 'malformed JSON body', options: { method: 'POST', path: '/v2/accounts/acc-1/transfers/withdrawals/blockchain', body: '{"a":' } },
    { what: 'body without content type', options: { method: 'POST', path: '/v2/accounts/acc-1/transfers/withdrawals/blockchain', body: 'x', headers: { 'content-type': undefined } } },
    { what: 'encoded slash and dots', options: { path: '/v2/accounts/%2e%2E%2f%2e%2e/balances' } },
    { what: 'bad percent-encoding', options: { path: '/v2/accounts/%zz/balances' } },
  ]
  for (const { what, options } of cases) {
    const res = await send(gateway.url, { key, ...options })
    t.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status} ${res.text}`)
    t.type(res.json?.errorType, 'string', `${what}: Network Link error body`)
  }
  t.equal(backend.requests.length, 0)
})

t.test('the signature covers the raw body bytes, which are forwarded unchanged; bytes that are not UTF-8 are refused', async (t) => {
  const body = Buffer.from('{ "note" :"caf\u00e9 \\u00e9",\n  "n": 1.50 }') // odd spacing, an escape, a trailing zero: kept as sent
  const res = await send(gateway.url, { method: 'POST', path: '/v2/accounts/acc-1/transfers/withdrawals/blockchain', body, key: hmac.key })
  t.equal(res.status, 200)
  t.same(backend.requests.at(-1)?.body, body, 'the backend received the exact bytes')
  const before = backend.requests.length
  const invalid = Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]) // {"\xC3("}: invalid UTF-8, validly signed
  const refused = await send(gateway.url, { method: 'POST', path: '/v2/accounts/acc-1/transfers/withdrawals/blockchain', body: invalid, key: hmac.key })
  t.same([refused.status, refused.json], [400, { message: 'Request body is not valid UTF-8', errorType: 'schema-error', requestPart: 'body' }])
  t.equal(backend.requests.length, before, 'a body whose bytes decode two ways never reaches the backend')
})
