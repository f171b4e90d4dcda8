import t from 'tap'
import { createServer } from 'node:http'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { type TestGateway, startGateway } from '../helpers/gateway.js'

/**
 * Row 7 of the security review: a flood of made-up API keys must neither
 * evict a known key from the credential cache (forcing a lookup per request
 * for real callers) nor reach the credential service more than once per key
 * within the negative TTL. The credential service is a real HTTP server that
 * counts every lookup it answers.
 */
const lookups = new Map<string, number>()
const service = createServer((req, res) => {
  let body = ''
  req.on('data', (c) => (body += c))
  req.on('end', () => {
    const { apiKey } = JSON.parse(body) as { apiKey: string }
    lookups.set(apiKey, (lookups.get(apiKey) ?? 0) + 1)
    if (apiKey.startsWith('known-')) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ subject: apiKey, secret: 'http-secret' }))
    else res.writeHead(404).end()
  })
})
await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve))
const backend = await Backend.start()
t.teardown(async () => {
  await backend.close()
  await new Promise((resolve) => service.close(resolve))
})
const serviceUrl = `http://127.0.0.1:${(service.address() as { port: number }).port}/internal/api-keys/lookup`
const key = { hmac: 'http-secret', hash: 'sha256' } as const

async function gatewayWith(credentialCache: Record<string, unknown>): Promise<TestGateway> {
  const gateway = await startGateway({
    config: {
      auth: { scheme: { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' }, credentials: [{ http: { url: serviceUrl, timeout: '1s' } }], credentialCache },
      upstream: { url: backend.url, passthrough: '/nl' },
    },
  })
  t.teardown(() => gateway.close())
  return gateway
}

async function cacheHits(gateway: TestGateway): Promise<number> {
  const metric = await gateway.metrics.registry.getSingleMetric('nlgw_credential_cache_total')?.get()
  return metric?.values.find((v) => v.labels.result === 'hit')?.value ?? 0
}

/** Sends one request per key, `parallel` at a time (below the resolver's 64 lookups in flight). */
async function flood(gateway: TestGateway, keys: string[], parallel = 60): Promise<Array<Awaited<ReturnType<typeof send>>>> {
  const answers: Array<Awaited<ReturnType<typeof send>>> = []
  for (let i = 0; i < keys.length; i += parallel) {
    answers.push(...(await Promise.all(keys.slice(i, i + parallel).map((apiKey) => send(gateway.url, { path: '/v2/accounts', apiKey, key })))))
  }
  return answers
}

const unknownBody = { message: 'Unknown API key', errorType: 'unauthorized', propertyName: 'X-FBAPI-KEY', requestPart: 'headers' }

// 300 unknown keys with room for all of them; then 150 (more than either bound) with room for 50.
for (const [maxUnknown, count] of [[400, 300], [50, 150]] as const) {
  t.test(`maxEntries 100, maxUnknown ${maxUnknown}: ${count} unknown keys do not evict a known one`, async (t) => {
    const gateway = await gatewayWith({ ttl: '1m', negativeTtl: '1m', maxEntries: 100, maxUnknown })
    const known = `known-${maxUnknown}`
    const first = await send(gateway.url, { path: '/v2/accounts', apiKey: known, key })
    t.equal(first.status, 200, 'the known key works')
    t.equal(lookups.get(known), 1, 'looked up once')

    const unknown = Array.from({ length: count }, (_, i) => `bogus-${maxUnknown}-${i}`)
    const before = backend.requests.length
    // The last 20 one at a time, so they are the most recently cached whatever order the batches' lookups finished in.
    const refused = [...(await flood(gateway, unknown.slice(0, -20))), ...(await flood(gateway, unknown.slice(-20), 1))]
    t.ok(
      refused.every((r) => r.status === 401 && JSON.stringify(r.json) === JSON.stringify(unknownBody)),
      `all ${count} refused 401 "Unknown API key" (${[...new Set(refused.map((r) => `${r.status} ${r.json?.message}`))].join(', ')})`,
    )
    t.equal(backend.requests.length, before, 'none reached the backend')
    t.ok(unknown.every((k) => lookups.get(k) === 1), 'each unknown key was looked up once')
    t.ok(gateway.credentials.cachedUnknown <= maxUnknown, `the unknown-key cache keeps its bound (${gateway.credentials.cachedUnknown} ≤ ${maxUnknown})`)

    const hits = await cacheHits(gateway)
    const again = await send(gateway.url, { path: '/v2/accounts', apiKey: known, key })
    t.equal(again.status, 200)
    t.equal(lookups.get(known), 1, 'the known key is still served from the cache: no second lookup')
    t.equal(await cacheHits(gateway), hits + 1, 'counted as a cache hit')
    t.equal(gateway.credentials.cachedEntries, 1, 'the known-key cache holds only the known key')

    if (maxUnknown >= unknown.length) {
      const retried = await flood(gateway, unknown)
      t.ok(retried.every((r) => r.status === 401), `the ${count} unknown keys again: refused`)
      t.ok(unknown.every((k) => lookups.get(k) === 1), 'and not looked up again within negativeTtl')
    } else {
      const recent = unknown.slice(-20)
      await flood(gateway, recent)
      t.ok(recent.every((k) => lookups.get(k) === 1), 'the most recent unknown keys are still cached: not looked up again')
    }
  })
}
