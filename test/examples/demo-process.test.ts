import t from 'tap'
import { readFileSync } from 'node:fs'
import { ACCOUNTS } from '../../examples/legacy-exchange/state/seed.js'
import { createSigner } from '../../src/signing/index.js'
import { send } from '../helpers/client.js'
import { repoPath } from '../helpers/paths.js'
import { until } from '../helpers/poll.js'
import { freePort } from '../helpers/ports.js'
import { spawnNode } from '../helpers/process.js'

/**
 * `npm run demo` as a new user starts it (after the build): both processes, the
 * gateway calling the exchange wherever LEGACY_PORT put it.
 */
const [port, metricsPort, outboundPort, legacyPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()])
const { child: demo, output, exited } = spawnNode(repoPath('dist/examples/demo.js'), { PORT: String(port), METRICS_PORT: String(metricsPort), OUTBOUND_PORT: String(outboundPort), LEGACY_PORT: String(legacyPort), LOG_PRETTY: '0', LOG_LEVEL: 'warn' })
t.teardown(() => demo.kill('SIGKILL'))

const ready = async () => fetch(`http://127.0.0.1:${metricsPort}/readyz`).then((r) => r.status === 200, () => false)
for (let i = 0; i < 300 && demo.exitCode === null && !(await ready()); i++) await new Promise((r) => setTimeout(r, 50))

t.test('LEGACY_PORT moves the exchange and the gateway follows it', async (t) => {
  t.ok(await ready(), `ready (the backend check passes on port ${legacyPort})\n${output()}`)
  const signer = createSigner({ algorithm: 'rsa', hash: 'sha256', preEncoding: 'url-encoded', postEncoding: 'base64' }, readFileSync(repoPath('config/demo/keys/validator-rsa.key')))
  const res = await send(`http://127.0.0.1:${port}`, { path: `/v2/accounts/${ACCOUNTS.acmeMain}/balances`, apiKey: 'demo-rsa', signer })
  t.equal(res.status, 200, res.text)
  // The banner is written once both listen; the gateway may answer before it reaches the pipe.
  const banner = new RegExp(`legacy exchange +http://127\\.0\\.0\\.1:${legacyPort}/`)
  t.ok(await until(() => banner.test(output()), { timeoutMs: 5000, what: () => `the banner naming port ${legacyPort} in:\n${output()}` }))
})

t.test('Ctrl-C stops both', async (t) => {
  demo.kill('SIGINT')
  t.equal(await exited, 0)
})
