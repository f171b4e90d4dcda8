import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { startGateway, hmac } from '../helpers/gateway.js'
import { until } from '../helpers/poll.js'

const version = (v: string) => `routes:
  - route: GET /accounts/{accountId}/balances
    upstream: { get: "/wallets/{accountId}" }
    response: { balances: [], version: "${v}" }
`
const backend = await Backend.start((req) => ({ body: { ok: true }, delayMs: req.url === '/wallets/slow' ? 300 : 0 }))
const gateway = await startGateway({
  config: {
    auth: hmac.auth,
    upstream: { url: backend.url },
    mappings: ['mappings.yaml'],
  },
  credentials: [{ apiKey: 'test-key', secret: { env: 'S' }, subject: 'u' }],
  env: { S: 's' },
  files: { 'mappings.yaml': version('1') },
})
t.teardown(async () => {
  await gateway.close()
  await backend.close()
})
const key = { hmac: 's', hash: 'sha256' } as const
const mappingFile = join(gateway.dir, 'mappings.yaml')
const versionOf = async (account = 'a') => {
  const res = await send(gateway.url, { path: `/v2/accounts/${account}/balances`, key })
  return res.status === 200 ? (res.json.version as string) : `HTTP ${res.status}`
}

t.test('a request in flight finishes on the mapping set it started with', async (t) => {
  const inflight = versionOf('slow')
  // Reload only once the request is inside its mapping, waiting on the backend.
  while (!backend.requests.some((r) => r.url === '/wallets/slow')) await new Promise((r) => setTimeout(r, 5))
  writeFileSync(mappingFile, version('2'))
  t.equal(gateway.reload(gateway.env).ok, true)
  t.equal(await inflight, '1', 'started on v1, answered by v1')
  t.equal(await versionOf(), '2', 'new requests use v2')
})

t.test('an invalid set is rejected with its problems and the old one keeps serving', async (t) => {
  writeFileSync(mappingFile, version('3').replace('$params', '$parms').replace('response: {', 'response: { id: $parms.accountId,'))
  const result = gateway.reload(gateway.env)
  t.equal(result.ok, false)
  if (!result.ok) t.match(result.problems[0], { file: mappingFile, line: 4, message: /unknown reference \$parms \(did you mean \$params\?\)/ })
  t.equal(await versionOf(), '2')
  const reloads = (await gateway.metrics.registry.getSingleMetric('nlgw_config_reloads_total')?.get())?.values
  t.same(Object.fromEntries((reloads ?? []).map((v) => [v.labels.result, v.value])), { success: 1, failure: 1 })
})

t.test('reloads under load: no request fails, every answer comes from one whole set', async (t) => {
  let stop = false
  const seen = new Map<string, number>()
  const load = Array.from({ length: 6 }, async () => {
    while (!stop) {
      const v = await versionOf()
      seen.set(v, (seen.get(v) ?? 0) + 1)
    }
  })
  const answered = () => [...seen.values()].reduce((a, b) => a + b, 0)
  for (let i = 4; i < 14; i++) {
    writeFileSync(mappingFile, version(String(i)))
    t.equal(gateway.reload(gateway.env).ok, true)
    // Requests in flight across every reload, however slow the machine: wait for answers, not for time.
    const before = answered()
    await until(() => answered() >= before + 6, { what: `answers after reload ${i}` })
  }
  stop = true
  await Promise.all(load)
  const statuses = [...seen.keys()].filter((v) => v.startsWith('HTTP'))
  t.same(statuses, [], `no failed request among ${answered()}`)
  t.ok([...seen.keys()].every((v) => /^(2|[4-9]|1[0-3])$/.test(v)), `versions seen: ${[...seen.keys()].join(',')}`)
  t.ok(seen.has('13'), 'the last set serves')
  const info = (await gateway.metrics.registry.getSingleMetric('nlgw_config_info')?.get())?.values
  t.equal(info?.length, 1, 'one config hash exported at a time')
})

t.test('settings that need a restart are reported, not silently ignored', async (t) => {
  const { readFileSync } = await import('node:fs')
  const file = join(gateway.dir, 'gateway.yaml')
  writeFileSync(file, readFileSync(file, 'utf8').replace('upstream:', 'upstream:\n  timeout: 3s'))
  const result = gateway.reload(gateway.env)
  t.same(result.ok && result.restartNeeded, ['upstream'])
})
