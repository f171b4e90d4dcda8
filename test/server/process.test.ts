import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { freePort } from '../helpers/ports.js'
import { repoPath } from '../helpers/paths.js'

/** The gateway as users run it: `node dist/src/server.js` with NLGW_CONFIG. */
const backend = await Backend.start(() => ({ body: { ok: true } }))
const dir = mkdtempSync(join(tmpdir(), 'nlgw-process-'))
const port = await freePort()
const metricsPort = await freePort()
const mapping = (v: string) => `routes:\n  - route: GET /accounts/{accountId}/balances\n    upstream: { get: /x }\n    response: { balances: [], v: "${v}" }\n`
writeFileSync(join(dir, 'mappings.yaml'), mapping('1'))
writeFileSync(join(dir, 'credentials.yaml'), 'credentials:\n  - { apiKey: test-key, secret: { env: NL_SECRET }, subject: u }\n')
writeFileSync(
  join(dir, 'gateway.yaml'),
  `server: { basePath: /v2 }
auth:
  scheme: { algorithm: hmac, hash: sha256, preEncoding: plain, postEncoding: base64 }
  credentials: [{ file: credentials.yaml }]
upstream: { url: "${backend.url}" }
mappings: [mappings.yaml]
reload: { watch: true }
logging: { level: warn }
`,
)

const child: ChildProcess = spawn(process.execPath, [repoPath('dist/src/server.js')], {
  env: { PATH: process.env.PATH, NLGW_CONFIG: join(dir, 'gateway.yaml'), NL_SECRET: 's', PORT: String(port), METRICS_PORT: String(metricsPort) },
  stdio: ['ignore', 'pipe', 'pipe'],
})
let output = ''
child.stdout?.on('data', (d) => (output += d))
child.stderr?.on('data', (d) => (output += d))
t.teardown(async () => {
  child.kill('SIGKILL')
  await backend.close()
})
const url = `http://127.0.0.1:${port}`
const ops = `http://127.0.0.1:${metricsPort}`
const deadline = Date.now() + 10_000
while (Date.now() < deadline && !(await fetch(`${ops}/healthz`).then((r) => r.ok, () => false))) await new Promise((r) => setTimeout(r, 50))

const version = async () => (await send(url, { path: '/v2/accounts/a/balances', key: { hmac: 's', hash: 'sha256' } })).json?.v as string | undefined
async function until(expected: string): Promise<string | undefined> {
  const end = Date.now() + 5000
  let v = await version()
  while (v !== expected && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50))
    v = await version()
  }
  return v
}

t.test('serves on PORT, health and metrics on METRICS_PORT', async (t) => {
  t.equal(await version(), '1', output)
  t.same(await (await fetch(`${ops}/healthz`)).json(), { status: 'ok' })
  t.equal((await fetch(`${ops}/readyz`)).status, 200)
  t.match(await (await fetch(`${ops}/metrics`)).text(), /nlgw_config_info\{hash="[0-9a-f]{12}-[0-9a-f]{12}"\} 1/)
})

t.test('a changed mapping file is picked up by the watch; SIGHUP reloads too', async (t) => {
  writeFileSync(join(dir, 'mappings.yaml'), mapping('2'))
  t.equal(await until('2'), '2', 'file watch')
  writeFileSync(join(dir, 'mappings.yaml'), 'routes: [ { route: "GET /accounts/{accountId}/balances", response: $nope } ]\n')
  await new Promise((r) => setTimeout(r, 800))
  t.equal(await version(), '2', 'an invalid change is rejected, the old set serves')
  t.match(output, /reload rejected; the previous config keeps serving/)
  t.match(output, /unknown reference \$nope/)
  child.kill('SIGHUP')
  await new Promise((r) => setTimeout(r, 200))
  t.equal(await version(), '2')
})

t.test('a bad config stops start-up with every problem and exit code 78', async (t) => {
  writeFileSync(join(dir, 'bad.yaml'), 'auth: { scheme: { algorithm: rsa } }\nupstream: { url: nope }\n')
  const bad = spawn(process.execPath, [repoPath('dist/src/server.js')], { env: { PATH: process.env.PATH, NLGW_CONFIG: join(dir, 'bad.yaml') } })
  let err = ''
  bad.stderr.on('data', (d) => (err += d))
  const code = await new Promise((r) => bad.on('exit', r))
  t.equal(code, 78)
  t.match(err, /bad\.yaml:1:17: auth\.scheme: missing required key "hash"/)
  t.match(err, /bad\.yaml:2:18: upstream\.url: "nope" must match pattern/)
  t.match(err, /missing required key "credentials"/)
})
