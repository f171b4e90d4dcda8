import t from 'tap'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac, startGateway } from '../helpers/gateway.js'

t.test('backend slow beyond the timeout, then down: 504 / 502, no stuck sockets, memory stable', async (t) => {
  const backend = await Backend.start(() => ({ delayMs: 1000, body: {} }))
  const gateway = await startGateway({
    config: {
      auth: hmac.auth,
      upstream: { url: backend.url, timeout: '100ms', connections: 16 },
      mappings: ['mappings.yaml'],
    },
    credentials: hmac.credentials,
    env: hmac.env,
    files: { 'mappings.yaml': 'routes:\n  - route: GET /accounts/{accountId}/balances\n    upstream: { get: /w }\n    response: { balances: [] }\n' },
  })
  t.teardown(() => gateway.close())
  const key = hmac.key
  const burst = () => Promise.all(Array.from({ length: 40 }, () => send(gateway.url, { path: '/v2/accounts/a/balances', key })))
  await burst()
  global.gc?.()
  const heap = process.memoryUsage().heapUsed
  const slow = (await Promise.all([burst(), burst(), burst()])).flat()
  t.ok(slow.every((r) => r.status === 504 && r.json.errorType === 'internal-error'), '120 timeouts, all 504 in Network Link format')
  await new Promise((r) => setTimeout(r, 1100)) // the backend's late answers land on closed sockets
  const sockets = await backend.connections()
  t.ok(sockets <= 16, `connections from the gateway to the backend after 120 timeouts: ${sockets} (pool of 16)`)
  await backend.close()
  const down = await burst()
  // Each answer that is not a 502, with its text: a bare "not ok" (seen once in CI under load) says nothing of why.
  t.same(down.filter((r) => r.status !== 502).map((r) => `${r.status} ${r.text}`), [], '40 requests to a stopped backend: all 502')
  global.gc?.()
  t.ok(process.memoryUsage().heapUsed - heap < 16 * 1024 * 1024, `heap growth ${Math.round((process.memoryUsage().heapUsed - heap) / 1024)} KiB`)
})
