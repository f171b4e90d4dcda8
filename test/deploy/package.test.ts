import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { freePort } from '../helpers/ports.js'
import { repoRoot } from '../helpers/paths.js'

/**
 * A production install, as a user gets it: `npm pack`, installed in a clean
 * directory with production dependencies only. It must pass `nlgw check` and
 * start the gateway.
 */
t.test('npm pack → npm install --omit=dev → nlgw check and the gateway start', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'nlgw-package-'))
  const npm = (args: string[], cwd: string) => {
    const res = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } })
    if (res.status !== 0) throw new Error(`npm ${args.join(' ')}: ${res.stderr}`)
    return res.stdout
  }
  // The tests run on a fresh compile, so the package is built from it as is.
  npm(['pack', '--ignore-scripts', '--pack-destination', work], repoRoot)
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz')) as string
  const app = join(work, 'app')
  spawnSync('mkdir', ['-p', app])
  writeFileSync(join(app, 'package.json'), '{"name":"install-test","private":true}')
  npm(['install', join(work, tarball), '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], app)
  const installed = readdirSync(join(app, 'node_modules'))
  t.notOk(installed.includes('tap') || installed.includes('typescript') || installed.includes('eslint'), 'no development dependencies')

  const backend = await Backend.start(() => ({ body: { ok: true } }))
  t.teardown(() => backend.close())
  writeFileSync(join(app, 'credentials.yaml'), 'credentials:\n  - { apiKey: test-key, secret: { env: NL_SECRET }, subject: u }\n')
  writeFileSync(join(app, 'mappings.yaml'), 'routes:\n  - route: GET /capabilities\n    response: { version: "0.1.1", components: {} }\n')
  writeFileSync(
    join(app, 'gateway.yaml'),
    `server: { basePath: /v2 }
auth:
  scheme: { algorithm: hmac, hash: sha256, preEncoding: plain, postEncoding: base64 }
  credentials: [{ file: credentials.yaml }]
upstream: { url: "${backend.url}" }
mappings: [mappings.yaml]
`,
  )
  const bin = join(app, 'node_modules', '.bin', 'nlgw')
  const check = spawnSync(bin, ['check', 'gateway.yaml'], { cwd: app, encoding: 'utf8', env: { PATH: process.env.PATH, NL_SECRET: 's' } })
  t.equal(check.status, 0, check.stdout + check.stderr)
  t.match(check.stdout, /ok — 1 mapped route/)

  const port = await freePort()
  const metricsPort = await freePort()
  const server = spawn(process.execPath, [join(app, 'node_modules', 'network-link-gateway', 'dist', 'src', 'server.js')], {
    cwd: app,
    env: { PATH: process.env.PATH, NLGW_CONFIG: 'gateway.yaml', NL_SECRET: 's', PORT: String(port), METRICS_PORT: String(metricsPort) },
    stdio: 'ignore',
  })
  t.teardown(() => server.kill('SIGKILL'))
  let healthy = false
  for (let i = 0; i < 100 && !healthy; i++) {
    healthy = await fetch(`http://127.0.0.1:${metricsPort}/healthz`).then((r) => r.ok, () => false)
    if (!healthy) await new Promise((r) => setTimeout(r, 100))
  }
  t.ok(healthy, 'the installed gateway answers /healthz')
  const res = await send(`http://127.0.0.1:${port}`, { path: '/v2/capabilities', key: { hmac: 's', hash: 'sha256' } })
  t.same([res.status, res.json], [200, { version: '0.1.1', components: {} }])
})
