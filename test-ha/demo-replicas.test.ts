import t from 'tap'
import { readFileSync } from 'node:fs'
import { ACCOUNTS } from '../examples/legacy-exchange/state/seed.js'
import { createSigner } from '../src/signing/index.js'
import { send } from '../test/helpers/client.js'
import { repoPath } from '../test/helpers/paths.js'
import { until } from '../test/helpers/poll.js'
import { freePort } from '../test/helpers/ports.js'
import { spawnNode } from '../test/helpers/process.js'

/**
 * `npm run demo:replicas` as a user starts it (after the build): nginx round
 * robin over two gateway processes sharing one redis-server.
 */
const free = async (n: number) => Promise.all(Array.from({ length: n }, () => freePort()))
const [port, redisPort, legacyPort] = await free(3)
const gatewayPorts = await free(2)
const metricsPorts = await free(2)
const outboundPorts = await free(2)
const { child: demo, output, exited } = spawnNode(repoPath('dist/examples/demo-replicas.js'), {
  PORT: String(port),
  REDIS_PORT: String(redisPort),
  LEGACY_PORT: String(legacyPort),
  GATEWAY_PORTS: gatewayPorts.join(','),
  GATEWAY_METRICS_PORTS: metricsPorts.join(','),
  GATEWAY_OUTBOUND_PORTS: outboundPorts.join(','),
  LOG_PRETTY: '0',
  LOG_LEVEL: 'warn',
})
t.teardown(() => demo.kill('SIGKILL'))
await until(() => output().includes('Ctrl-C stops everything') || demo.exitCode !== null, { timeoutMs: 60_000, everyMs: 50, what: 'the demo up' })

const signer = createSigner({ algorithm: 'rsa', hash: 'sha256', preEncoding: 'url-encoded', postEncoding: 'base64' }, readFileSync(repoPath('config/demo/keys/validator-rsa.key')))
const path = `/v2/accounts/${ACCOUNTS.acmeMain}/balances`
/** Requests each gateway answered, from its own metrics. */
async function answered(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
  return [...text.matchAll(/^nlgw_http_requests_total\{.*\} (\d+)$/gm)].reduce((sum, [, n]) => sum + Number(n), 0)
}

t.test('through nginx, the replay race is accepted once, and both replicas took part', async (t) => {
  t.equal(demo.exitCode, null, demo.exitCode === null ? 'the demo runs' : output())
  const before = await Promise.all(metricsPorts.map(answered))
  const timestamp = String(Date.now())
  const nonce = crypto.randomUUID()
  const results = await Promise.all(Array.from({ length: 40 }, () => send(`http://127.0.0.1:${port}`, { path, apiKey: 'demo-rsa', signer, timestamp, nonce })))
  const statuses = results.map((r) => r.status)
  t.equal(statuses.filter((s) => s === 200).length, 1, 'one accepted')
  t.equal(statuses.filter((s) => s === 401).length, 39, 'every other copy refused as a replay')
  const after = await Promise.all(metricsPorts.map(answered))
  after.forEach((n, i) => t.ok(n - (before[i] as number) > 0, `gateway ${i + 1} answered ${n - (before[i] as number)} of them`))
})

t.test('Ctrl-C stops everything', async (t) => {
  demo.kill('SIGINT')
  t.equal(await exited, 0)
  await until(() => fetch(`http://127.0.0.1:${port}/v2/capabilities`).then(() => false, () => true), { timeoutMs: 5000, what: 'nginx gone' })
})
