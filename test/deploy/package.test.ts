import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac } from '../helpers/gateway.js'
import { repoRoot } from '../helpers/paths.js'
import { startServer, writeProject } from '../helpers/process.js'
import { tempDir } from '../helpers/temp.js'

/**
 * A production install, as a user gets it: `npm pack`, installed in a clean
 * directory with production dependencies only. It must pass `nlgw check` and
 * start the gateway.
 */
t.test('npm pack → npm install --omit=dev → nlgw check and the gateway start', async (t) => {
  const work = tempDir('nlgw-package-')
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
  const project = writeProject(
    { server: { basePath: '/v2' }, upstream: { url: backend.url }, mappings: ['mappings.yaml'] },
    { 'mappings.yaml': 'routes:\n  - route: GET /capabilities\n    response: { version: "0.1.1", components: {} }\n' },
  )
  const check = spawnSync(join(app, 'node_modules', '.bin', 'nlgw'), ['check', 'gateway.yaml'], { cwd: project, encoding: 'utf8', env: { PATH: process.env.PATH, NL_SECRET: 's' } })
  t.equal(check.status, 0, check.stdout + check.stderr)
  t.match(check.stdout, /ok — 1 mapped route/)

  const server = await startServer(project, { script: join(app, 'node_modules', 'network-link-gateway', 'dist', 'plugins', 'server.js') })
  t.teardown(() => server.child.kill('SIGKILL'))
  t.ok(await fetch(`${server.ops}/healthz`).then((r) => r.ok, () => false), 'the installed gateway answers /healthz')
  const res = await send(server.url, { path: '/v2/capabilities', key: hmac.key })
  t.same([res.status, res.json], [200, { version: '0.1.1', components: {} }])
})
