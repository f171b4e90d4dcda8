import t from 'tap'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac } from '../helpers/gateway.js'
import { startServer, writeProject } from '../helpers/process.js'
import { until } from '../helpers/poll.js'
import { RedisServer } from '../helpers/redis.js'

t.test('SIGTERM: requests in flight all complete, new ones are refused, Redis is closed, exit 0', async (t) => {
  const redis = await RedisServer.start()
  const backend = await Backend.start(() => ({ delayMs: 700, body: { ok: true } }))
  t.teardown(async () => {
    await backend.close()
    await redis.stop()
  })
  const dir = writeProject(
    { server: { basePath: '/v2', shutdownDelay: '200ms', shutdownTimeout: '5s' }, upstream: { url: backend.url }, mappings: ['mappings.yaml'], logging: { level: 'info' } },
    { 'mappings.yaml': 'routes:\n  - route: GET /accounts/{accountId}/balances\n    upstream: { get: /x }\n    response: { balances: [] }\n' },
  )
  // The server waits for Redis before it listens, so once /healthz answers, Redis is connected.
  const server = await startServer(dir, { env: { REDIS_URL: redis.url } })
  const { child, url, ops, exited } = server
  const inspect = redis.client()
  t.teardown(() => inspect.disconnect())
  const clients = async () => (await inspect.client('LIST') as string).trim().split('\n').length
  t.equal(await clients(), 2, 'the gateway holds a Redis connection')

  const key = hmac.key
  const inflight = Array.from({ length: 12 }, () => send(url, { path: '/v2/accounts/a/balances', key }))
  await until(() => backend.requests.length === 12, { what: 'all 12 requests at the backend' })
  child.kill('SIGTERM')
  // Within shutdownDelay the listeners are still open: the first answer that is not "ready" must be this one.
  const readiness = await until(async () => {
    const answer = await fetch(`${ops}/readyz`).then(async (r) => [r.status, await r.json()] as const, () => ['closed'] as const)
    return answer[0] === 200 ? undefined : answer
  }, { what: '/readyz to change' })
  t.same(readiness, [503, { status: 'not ready', checks: { shutdown: { ok: false, detail: 'shutting down' } } }], 'not ready as soon as SIGTERM arrives')
  const results = await Promise.all(inflight)
  t.same(results.map((r) => r.status), Array(12).fill(200), 'every request in flight completed')
  const late = await send(url, { path: '/v2/accounts/a/balances', key }).then((r) => r.status, (err: Error) => (err as NodeJS.ErrnoException).code ?? err.message)
  t.ok(late === 503 || ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(String(late)), `a new request after shutdown is not served (${late})`)
  t.equal(await exited, 0, server.output())
  t.equal(await clients(), 1, 'the Redis connection was closed')
  t.match(server.output(), /shut down cleanly/)
})

t.test('buffered access log: a quiet line is out within a second; lines still waiting are written at SIGTERM', async (t) => {
  const backend = await Backend.start(() => ({ body: { ok: true } }))
  t.teardown(() => backend.close())
  const mappings = { 'mappings.yaml': 'routes:\n  - route: GET /accounts/{accountId}/balances\n    upstream: { get: /x }\n    response: { balances: [] }\n' }
  const lines = (output: string) => output.split('\n').filter((l) => l.includes('"msg":"request"')).length
  const project = (buffer?: number) => writeProject({ server: { basePath: '/v2' }, upstream: { url: backend.url }, mappings: ['mappings.yaml'], logging: { level: 'info', ...(buffer === undefined ? {} : { buffer }) } }, mappings)

  const quiet = await startServer(project())
  t.equal((await send(quiet.url, { path: '/v2/accounts/a/balances', key: hmac.key })).status, 200, quiet.output())
  await until(() => lines(quiet.output()) === 1, { what: 'the access-log line, flushed by the timer', timeoutMs: 3000 })
  quiet.child.kill('SIGTERM')
  t.equal(await quiet.exited, 0)

  // Five lines fill no buffer of 16,000 bytes: unless the timer has run meanwhile, only the exit writes them.
  const held = await startServer(project(16_000))
  for (let i = 0; i < 5; i++) t.equal((await send(held.url, { path: '/v2/accounts/a/balances', key: hmac.key })).status, 200)
  held.child.kill('SIGTERM')
  t.equal(await held.exited, 0)
  t.equal(lines(held.output()), 5, 'every line waiting in the buffer was written on the way out')
})
