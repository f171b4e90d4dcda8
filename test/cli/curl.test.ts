import t from 'tap'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Backend } from '../helpers/backend.js'
import { startGateway } from '../helpers/gateway.js'
import { independent } from '../helpers/independent.js'
import { makeKeys } from '../helpers/keys.js'
import { repoPath } from '../helpers/paths.js'

/** `nlgw curl` as a user runs it (a child process), against a real gateway that verifies what it sends. */
const nlgw = (...args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [repoPath('dist/src/cli/nlgw.js'), 'curl', ...args], { encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
    )
  })

const keys = makeKeys('rsa')
const backend = await Backend.start((req) => ({ body: { seen: req.url } }))
const gateway = await startGateway({
  config: { auth: { scheme: { algorithm: 'rsa', hash: 'sha256', preEncoding: 'url-encoded', postEncoding: 'base64' }, credentials: [{ file: 'credentials.yaml' }] }, upstream: { url: backend.url, passthrough: '/nl' } },
  credentials: [{ apiKey: 'curl-key', publicKey: { file: keys.publicPath }, subject: 'u' }],
})
t.teardown(async () => {
  await gateway.close()
  await backend.close()
})
const dir = t.testdir({ 'body.json': '{"idempotencyKey":"k-1","note":"Zürich"}' })
// The official validator's .env format: the private key inline, quoted over several lines.
const env = join(dir, 'validator.env')
writeFileSync(
  env,
  `SERVER=${gateway.url}/v2\nAPI_KEY=curl-key\nSIGNING_ALGORITHM=rsa\nSIGNING_HASH_ALGORITHM=sha256\nSIGNING_PRE_ENCODING=url-encoded\nSIGNING_POST_ENCODING=base64\nSIGNING_PRIVATE_KEY="${(keys.privateForms.pkcs1 as string).trim()}"\n`,
)

t.test('a signed GET from the validator env file: exit 0, the body on stdout, the status on stderr', async (t) => {
  const res = await nlgw(`${gateway.url}/v2/accounts/a%20b/balances?limit=2`, '--env', env)
  t.equal(res.code, 0, res.stderr)
  t.same(JSON.parse(res.stdout), { seen: '/nl/accounts/a%20b/balances?limit=2' })
  t.match(res.stderr, /^< 200$/m)
})

t.test('a path under SERVER, a body from a file, -v shows the message Python verifies the signature over', async (t) => {
  const res = await nlgw('-v', '-X', 'POST', '-d', `@${join(dir, 'body.json')}`, '/accounts/acc-1/transfers/withdrawals/blockchain', '--env', env)
  t.equal(res.code, 0, res.stderr)
  t.same(backend.requests.at(-1)?.body.toString(), '{"idempotencyKey":"k-1","note":"Zürich"}', 'the body as in the file')
  const message = /^\* (\d{13}[0-9a-f-]{36}POST\/accounts\/acc-1\/transfers\/withdrawals\/blockchain.*)$/m.exec(res.stderr)?.[1]
  const signature = /^> x-fbapi-signature: (.+)$/m.exec(res.stderr)?.[1]
  t.ok(message && signature, res.stderr)
  const [check] = independent([{ op: 'verify', algorithm: 'rsa', hash: 'sha256', pre: 'url-encoded', post: 'base64', key: keys.publicPath, message: Buffer.from(message as string), signature: signature as string }])
  t.equal(check?.valid, true, 'the printed message is what was signed')
})

t.test('exit 1 on an error status, 2 on usage errors, 7 when nothing answers', async (t) => {
  const refused = await nlgw(`${gateway.url}/v2/accounts`, '--env', env, '--key-id', 'someone-else')
  t.equal(refused.code, 1)
  t.match(refused.stdout, /Unknown API key/)
  t.equal((await nlgw(`${gateway.url}/v2/x`)).code, 2, 'no credentials')
  const base = await nlgw(`${gateway.url}/v3/x`, '--env', env)
  t.equal(base.code, 2)
  t.match(base.stderr, /does not start with the base path \/v2/)
  t.equal((await nlgw('http://127.0.0.1:1/v2/x', '--env', env)).code, 7)
})
