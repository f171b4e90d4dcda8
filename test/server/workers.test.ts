import t from 'tap'
import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent } from 'undici'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac } from '../helpers/gateway.js'
import { until } from '../helpers/poll.js'
import { startServer, writeProject } from '../helpers/process.js'
import { RedisServer } from '../helpers/redis.js'

/** `server.workers: 2`: one port, two serving processes, one Redis; the primary answers for both. */
const redis = await RedisServer.start()
const backend = await Backend.start(() => ({ body: { wallets: [] } }))
t.teardown(async () => {
  await backend.close()
  await redis.stop()
})
const mapping = 'routes:\n  - route: GET /accounts/{accountId}/balances\n    upstream: { get: /wallets }\n    response: { balances: [] }\n'
const dir = writeProject({ server: { basePath: '/v2', workers: 2 }, redis: { url: redis.url }, upstream: { url: backend.url }, mappings: ['mappings.yaml'], logging: { level: 'warn' } }, { 'mappings.yaml': mapping })
const server = await startServer(dir)
t.teardown(() => server.child.kill('SIGKILL'))
const readiness = async () => (await fetch(`${server.ops}/readyz`).then((r) => r.json(), () => undefined)) as { checks?: { workers?: { detail: string } } } | undefined
await until(async () => (await readiness())?.checks?.workers?.detail === '2 of 2 ready', { timeoutMs: 15_000, what: 'both workers ready' })

/** The pids of the primary's children (the workers). */
function workerPids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === server.child.pid
      } catch {
        return false
      }
    })
    .map(Number)
}

t.test('the same signed request raced over 40 connections to two workers is accepted exactly once', async (t) => {
  t.equal(workerPids().length, 2, 'two worker processes')
  const timestamp = String(Date.now())
  const nonce = randomUUID()
  const agent = new Agent({ connections: 40 })
  t.teardown(() => agent.close())
  const { setGlobalDispatcher, getGlobalDispatcher } = await import('undici')
  const previous = getGlobalDispatcher()
  setGlobalDispatcher(agent)
  const answers = await Promise.all(Array.from({ length: 40 }, () => send(server.url, { path: '/v2/accounts/a/balances', key: hmac.key, timestamp, nonce })))
  setGlobalDispatcher(previous)
  const statuses = answers.map((a) => a.status).sort()
  t.same(statuses, [200, ...Array(39).fill(401)], 'one 200, 39 replays refused')
  const metrics = await (await fetch(`${server.ops}/metrics`)).text()
  const counted = [...metrics.matchAll(/nlgw_http_requests_total\{route="\/accounts\/\{accountId\}\/balances",method="GET",status="(\d+)"\} (\d+)/g)].map((m) => `${m[1]}=${m[2]}`)
  t.same(counted.sort(), ['200=1', '401=39'], 'the primary serves the metrics of both workers, summed')
  t.match(metrics, /nlgw_config_info\{hash="[0-9a-f-]+"\} 1\n/, 'the config digest once, not once per worker')
})

t.test('a worker that dies is replaced; SIGHUP reaches every worker', async (t) => {
  const [victim] = workerPids()
  process.kill(victim as number, 'SIGKILL')
  await until(async () => workerPids().length === 2 && !workerPids().includes(victim as number) && (await readiness())?.checks?.workers?.detail === '2 of 2 ready', { timeoutMs: 15_000, what: 'a new worker' })
  writeFileSync(join(dir, 'mappings.yaml'), mapping.replace('balances: []', 'balances: [], v: 2'))
  server.child.kill('SIGHUP')
  // Every worker must answer with the new mapping: ask over several fresh connections.
  await until(async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => send(server.url, { path: '/v2/accounts/a/balances', key: hmac.key, headers: { connection: 'close' } })))
    return answers.every((a) => a.json?.v === 2)
  }, { what: 'both workers reloaded' })
  t.pass('both workers serve the reloaded mapping')
})

t.test('SIGTERM stops the workers and the primary', async (t) => {
  const pids = workerPids()
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0, server.output())
  t.same(pids.filter((pid) => readdirSync('/proc').includes(String(pid))), [], 'no worker left behind')
})

t.test('more than one worker without Redis is a config error', async (t) => {
  writeFileSync(join(dir, 'memory.yaml'), readFileSync(join(dir, 'gateway.yaml'), 'utf8').replace(/redis:\n {2}url: .*\n/, ''))
  const memory = await startServer(dir, { env: { NLGW_CONFIG: join(dir, 'memory.yaml') } })
  t.equal(await memory.exited, 78)
  t.match(memory.output(), /server\.workers: 2 workers need redis\.url/)
})
