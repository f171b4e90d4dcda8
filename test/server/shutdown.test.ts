import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { freePort } from '../helpers/ports.js'
import { repoPath } from '../helpers/paths.js'
import { RedisServer } from '../helpers/redis.js'

t.test('SIGTERM: requests in flight all complete, new ones are refused, Redis is closed, exit 0', async (t) => {
  const redis = await RedisServer.start()
  const backend = await Backend.start(() => ({ delayMs: 700, body: { ok: true } }))
  t.teardown(async () => {
    await backend.close()
    await redis.stop()
  })
  const dir = mkdtempSync(join(tmpdir(), 'nlgw-shutdown-'))
  writeFileSync(join(dir, 'credentials.yaml'), 'credentials:\n  - { apiKey: test-key, secret: { env: NL_SECRET }, subject: u }\n')
  writeFileSync(join(dir, 'mappings.yaml'), 'routes:\n  - route: GET /accounts/{accountId}/balances\n    upstream: { get: /x }\n    response: { balances: [] }\n')
  writeFileSync(
    join(dir, 'gateway.yaml'),
    `server: { basePath: /v2, shutdownDelay: 200ms, shutdownTimeout: 5s }
auth:
  scheme: { algorithm: hmac, hash: sha256, preEncoding: plain, postEncoding: base64 }
  credentials: [{ file: credentials.yaml }]
upstream: { url: "${backend.url}" }
mappings: [mappings.yaml]
logging: { level: info }
`,
  )
  const port = await freePort()
  const metricsPort = await freePort()
  const child = spawn(process.execPath, [repoPath('dist/src/server.js')], {
    env: { PATH: process.env.PATH, NLGW_CONFIG: join(dir, 'gateway.yaml'), NL_SECRET: 's', PORT: String(port), METRICS_PORT: String(metricsPort), REDIS_URL: redis.url },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  const ops = `http://127.0.0.1:${metricsPort}`
  for (let i = 0; i < 200 && !(await fetch(`${ops}/readyz`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 50))
  const inspect = redis.client()
  t.teardown(() => inspect.disconnect())
  const clients = async () => (await inspect.client('LIST') as string).trim().split('\n').length
  t.equal(await clients(), 2, 'the gateway holds a Redis connection')

  const url = `http://127.0.0.1:${port}`
  const key = { hmac: 's', hash: 'sha256' } as const
  const inflight = Array.from({ length: 12 }, () => send(url, { path: '/v2/accounts/a/balances', key }))
  await new Promise((r) => setTimeout(r, 150))
  child.kill('SIGTERM')
  await new Promise((r) => setTimeout(r, 50))
  const readiness = await fetch(`${ops}/readyz`).then(async (r) => [r.status, await r.json()], () => ['closed'])
  t.same(readiness, [503, { status: 'not ready', checks: { shutdown: { ok: false, detail: 'shutting down' } } }], 'not ready as soon as SIGTERM arrives')
  const results = await Promise.all(inflight)
  t.same(results.map((r) => r.status), Array(12).fill(200), 'every request in flight completed')
  const late = await send(url, { path: '/v2/accounts/a/balances', key }).then((r) => r.status, (err: Error) => (err as NodeJS.ErrnoException).code ?? err.message)
  t.ok(late === 503 || ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(String(late)), `a new request after shutdown is not served (${late})`)
  t.equal(await exited, 0, output)
  t.equal(await clients(), 1, 'the Redis connection was closed')
  t.match(output, /shut down cleanly/)
})
