import t from 'tap'
import { createServer } from 'node:http'
import { connect, type Socket } from 'node:net'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { startGateway, hmac } from '../helpers/gateway.js'

/**
 * Hostile clients: each is answered with a 4xx or a closed connection, never a
 * crash, never unbounded memory.
 */
const backend = await Backend.start(() => ({ body: { ok: true } }))
const lookups = createServer((req, res) => {
  req.resume()
  req.on('end', () => res.writeHead(404).end())
})
await new Promise<void>((r) => lookups.listen(0, '127.0.0.1', r))
const gateway = await startGateway({
  config: {
    server: { basePath: '/v2', headersTimeout: '500ms', requestTimeout: '1s', bodyLimit: 8192 },
    auth: {
      scheme: hmac.auth.scheme,
      credentials: [{ file: 'credentials.yaml' }, { http: { url: `http://127.0.0.1:${(lookups.address() as { port: number }).port}/lookup` } }],
      credentialCache: { maxEntries: 1000, negativeTtl: '1m' },
    },
    upstream: { url: backend.url, passthrough: '/nl' },
  },
  credentials: [{ apiKey: 'test-key', secret: { env: 'S' }, subject: 'u' }],
  env: { S: 's' },
})
t.teardown(async () => {
  await gateway.close()
  await backend.close()
  lookups.close()
})
const port = (gateway.app.server.address() as { port: number }).port
const key = { hmac: 's', hash: 'sha256' } as const

/** Opens a socket and feeds it `chunks` slowly; resolves with what came back and when the socket closed. */
function trickle(chunks: string[], gapMs: number): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now()
    const socket: Socket = connect(port, '127.0.0.1')
    let answer = ''
    let i = 0
    const timer = setInterval(() => {
      if (i < chunks.length && !socket.destroyed) socket.write(chunks[i++] as string)
    }, gapMs)
    socket.on('data', (d) => (answer += d.toString()))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearInterval(timer)
      resolve({ answer, closedAfterMs: Date.now() - started })
    })
  })
}

t.test('slowloris: headers or a body sent too slowly are cut off', async (t) => {
  const headers = 'GET /v2/accounts HTTP/1.1\r\nHost: x\r\nX-FBAPI-KEY: test-key\r\n'.split('')
  const slowHeaders = await trickle(headers, 100) // ~5 s of headers at one byte per 100 ms
  t.ok(slowHeaders.closedAfterMs < 3500, `slow headers cut off after ${slowHeaders.closedAfterMs} ms`)
  t.match(slowHeaders.answer, /^(HTTP\/1\.1 408|)/)
  const slowBody = await trickle(['POST /v2/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n', ...'{"a":'.split('').concat(Array(90).fill(' '))], 100)
  t.ok(slowBody.closedAfterMs < 4000, `slow body cut off after ${slowBody.closedAfterMs} ms`)
  t.equal(backend.requests.length, 0)
  t.equal((await send(gateway.url, { path: '/v2/accounts', key })).status, 200, 'the gateway still serves')
})

t.test('oversized headers and bodies, malformed JSON, invalid UTF-8: 4xx', async (t) => {
  const huge = await send(gateway.url, { path: '/v2/accounts', key, headers: { 'x-padding': 'p'.repeat(20_000) } }).then((r) => r.status, () => 'closed')
  t.ok(huge === 431 || huge === 'closed', `20 KB header: ${huge}`)
  t.equal((await send(gateway.url, { method: 'POST', path: '/v2/accounts/acc-1/transfers/withdrawals/blockchain', key, body: 'x'.repeat(10_000) })).status, 413)
  t.equal((await send(gateway.url, { method: 'POST', path: '/v2/accounts/acc-1/transfers/withdrawals/blockchain', key: { hmac: 'x', hash: 'sha256' }, body: '{"a":' })).status, 401, 'authentication before parsing')
  t.equal((await send(gateway.url, { method: 'POST', path: '/v2/accounts/acc-1/transfers/withdrawals/blockchain', key: { hmac: 'x', hash: 'sha256' }, body: Buffer.from([0xff, 0xfe]) })).status, 401)
})

t.test('thousands of distinct bogus API keys: the credential cache stays bounded, memory stays flat', async (t) => {
  const flood = async (n: number, offset: number) => {
    for (let i = 0; i < n; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => send(gateway.url, { path: '/v2/accounts', key, apiKey: `bogus-${offset + i + j}` })))
    }
  }
  await flood(1000, 0) // warm up
  global.gc?.()
  const before = process.memoryUsage().heapUsed
  await flood(4000, 1000)
  global.gc?.()
  const grown = process.memoryUsage().heapUsed - before
  t.ok(gateway.credentials.cachedEntries <= 1000, `cache: ${gateway.credentials.cachedEntries} entries (bound 1000)`)
  t.ok(grown < 16 * 1024 * 1024, `heap grew ${Math.round(grown / 1024)} KiB over 4000 bogus keys`)
  const unknown = (await gateway.metrics.registry.getSingleMetric('nlgw_auth_refusals_total')?.get())?.values.find((v) => v.labels.reason === 'unknown_key')
  t.equal(unknown?.value, 5000)
  t.equal(backend.requests.length, 1, 'only the one genuine request reached the backend')
})
