import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { repoPath } from '../helpers/paths.js'
import { hmacSecretFile, makeKeys } from '../helpers/keys.js'
import { independent } from '../helpers/independent.js'
import { tempDir } from '../helpers/temp.js'

const nlgw = (...args: string[]) => {
  const res = spawnSync(process.execPath, [repoPath('dist/src/cli/nlgw.js'), ...args], { encoding: 'utf8' })
  return { code: res.status, stdout: res.stdout, stderr: res.stderr }
}
const worked = '1691606624184c3d5f400-0e7e-4f94-a199-44b8cc7b6b81GET/accounts/A1234/balances?limit=2'
const scheme = (algorithm: string, hash: string, pre: string, post: string) => ['--algorithm', algorithm, '--hash', hash, '--pre-encoding', pre, '--post-encoding', post]

t.test('sign reproduces the worked example as Python hmac computes it', async (t) => {
  const key = hmacSecretFile('your-secret-key')
  const res = nlgw('sign', ...scheme('hmac', 'sha256', 'plain', 'hexstr'), '--key', key, '--message', worked)
  t.equal(res.code, 0)
  const [expected] = independent([{ op: 'sign', algorithm: 'hmac', hash: 'sha256', pre: 'plain', post: 'hexstr', key, message: Buffer.from(worked) }])
  t.equal(res.stdout.trim(), expected?.signature)
})

t.test('verify: exit 0 valid, 1 invalid, 2 usage error', async (t) => {
  const keys = makeKeys('secp256k1')
  const [signed] = independent([{ op: 'sign', algorithm: 'ecdsa', hash: 'sha256', pre: 'base32', post: 'base58', key: keys.privatePath, message: Buffer.from(worked) }])
  const args = [...scheme('ecdsa', 'sha256', 'base32', 'base58'), '--key', keys.publicPath, '--message', worked]
  t.equal(nlgw('verify', ...args, '--signature', signed?.signature as string).code, 0, 'valid')
  t.equal(nlgw('verify', ...args.slice(0, -1), worked + 'x', '--signature', signed?.signature as string).code, 1, 'other message')
  t.equal(nlgw('verify', ...args, '--signature', '0OIl').code, 1, 'undecodable signature is invalid, not a usage error')
  const missing = nlgw('verify', ...args)
  t.equal(missing.code, 2)
  t.match(missing.stderr, /--signature is required/)
  const bad = nlgw('verify', ...scheme('ecdsa', 'sha512', 'plain', 'url-encoded'), '--key', keys.publicPath, '--message', 'm', '--signature', 's')
  t.equal(bad.code, 2)
  t.match(bad.stderr, /--hash: ECDSA is defined with sha256 only/)
  t.match(bad.stderr, /--post-encoding: "url-encoded" is not supported/)
  const wrongKey = nlgw('verify', ...scheme('rsa', 'sha256', 'plain', 'base64'), '--key', keys.publicPath, '--message', 'm', '--signature', 's')
  t.equal(wrongKey.code, 2)
  t.match(wrongKey.stderr, /RSA scheme needs an RSA key, got ec/)
  const noFile = nlgw('sign', ...scheme('hmac', 'sha256', 'plain', 'base64'), '--key', '/nonexistent', '--message', 'm')
  t.equal(noFile.code, 2)
  t.match(noFile.stderr, /cannot read --key \/nonexistent: ENOENT/)
  t.equal(nlgw('frobnicate').code, 2)
  t.equal(nlgw('sign', '--bogus').code, 2)
})

t.test('keygen writes the PEM forms the validator reads, usable by openssl and by sign/verify', async (t) => {
  const dir = tempDir('nlgw-keygen-')
  for (const [algorithm, curve, header] of [
    ['rsa', undefined, 'RSA PRIVATE KEY'],
    ['ecdsa', 'prime256v1', 'EC PRIVATE KEY'],
    ['ecdsa', 'secp256k1', 'EC PRIVATE KEY'],
  ] as const) {
    const out = join(dir, `${algorithm}-${curve ?? 'rsa'}`)
    const res = nlgw('keygen', '--algorithm', algorithm, ...(curve ? ['--curve', curve] : []), '--out', out)
    t.equal(res.code, 0, res.stderr)
    const privatePem = readFileSync(`${out}.key`, 'utf8')
    t.match(privatePem, new RegExp(`^-----BEGIN ${header}-----`), `${algorithm} private key form`)
    t.match(readFileSync(`${out}.pub`, 'utf8'), /^-----BEGIN PUBLIC KEY-----/)
    t.equal(statSync(`${out}.key`).mode & 0o777, 0o600, 'private key is not world-readable')
    const hash = 'sha256'
    const sig = nlgw('sign', ...scheme(algorithm, hash, 'url-encoded', 'base64'), '--key', `${out}.key`, '--message', worked)
    const [check] = independent([{ op: 'verify', algorithm, hash, pre: 'url-encoded', post: 'base64', key: `${out}.pub`, message: Buffer.from(worked), signature: sig.stdout.trim() }])
    t.equal(check?.valid, true, 'openssl verifies a signature made with the generated key')
    t.equal(nlgw('verify', ...scheme(algorithm, hash, 'url-encoded', 'base64'), '--key', `${out}.pub`, '--message', worked, '--signature', sig.stdout.trim()).code, 0)
  }
  const printed = nlgw('keygen', '--algorithm', 'ecdsa', '--curve', 'secp256k1')
  t.match(printed.stdout, /BEGIN EC PRIVATE KEY[\s\S]*BEGIN PUBLIC KEY/)
  t.equal(nlgw('keygen', '--algorithm', 'ecdsa', '--curve', 'p384').code, 2)
  t.equal(nlgw('keygen', '--algorithm', 'hmac').code, 2)
})
