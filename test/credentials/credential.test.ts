import t from 'tap'
import { createHash, createHmac, sign as cryptoSign } from 'node:crypto'
import { buildCredential, CREDENTIAL_ID, CredentialRecordError, keyDigest } from '../../src/credentials/credential.js'
import { KeyError, SchemeError, type SigningScheme } from '../../src/signing/index.js'
import { makeKeys } from '../helpers/keys.js'

const hmacScheme: SigningScheme = { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' }
const message = Buffer.from('1700000000000nonce-1GET/accounts')

t.test('the default id is a short digest of the API key, never the key itself', async (t) => {
  for (const apiKey of ['abc', 'test-key', 'a'.repeat(64), 'ключ with spaces/and:colons']) {
    const { id } = buildCredential(apiKey, { subject: 'u', key: 's' }, hmacScheme)
    t.equal(id, 'k-' + createHash('sha256').update(apiKey).digest('hex').slice(0, 16), `sha-256 prefix of ${JSON.stringify(apiKey)}`)
    t.not(id, apiKey, 'not the key, even when the key would be a valid id')
    t.notOk(id.includes(apiKey), 'the key does not appear in the id')
    t.match(id, CREDENTIAL_ID, 'the digest is itself a valid id')
    t.equal(keyDigest(apiKey), id)
  }
  t.equal(buildCredential('k1', { subject: 'u', key: 's' }, hmacScheme).id, buildCredential('k1', { subject: 'v', key: 't' }, hmacScheme).id, 'stable: depends on the key only')
  t.not(keyDigest('k1'), keyDigest('k2'), 'different keys, different ids')
})

t.test('an explicit id is kept when it matches the pattern, refused otherwise', async (t) => {
  t.equal(buildCredential('key', { id: 'ops.team_1-A', subject: 'u', key: 's' }, hmacScheme).id, 'ops.team_1-A')
  t.equal(buildCredential('key', { id: 'x'.repeat(64), subject: 'u', key: 's' }, hmacScheme).id, 'x'.repeat(64), '64 characters is the limit')
  for (const id of ['', 'has space', 'x'.repeat(65), 'slash/y', 'new\nline', 'ümlaut', 'colon:x']) {
    t.throws(() => buildCredential('key', { id, subject: 'u', key: 's' }, hmacScheme), CredentialRecordError, `refuses ${JSON.stringify(id)}`)
  }
  try {
    buildCredential('key', { id: 'bad id', subject: 'u', key: 's' }, hmacScheme)
  } catch (err) {
    t.equal((err as Error).name, 'CredentialRecordError')
    t.match((err as Error).message, /"bad id"/, 'the message names the id')
  }
})

t.test('enabled defaults to true; subject and accounts come from the record', async (t) => {
  const plain = buildCredential('key', { subject: 'legacy-1', key: 's' }, hmacScheme)
  t.equal(plain.enabled, true)
  t.equal(plain.subject, 'legacy-1')
  t.equal(plain.accounts, undefined, 'no accounts: unscoped')
  t.notOk('accounts' in plain, 'not even an undefined property')
  const scoped = buildCredential('key', { subject: 'u', key: 's', enabled: false, accounts: ['a1', 'a2', 'a1'] }, hmacScheme)
  t.equal(scoped.enabled, false)
  t.ok(scoped.accounts instanceof Set)
  t.same([...(scoped.accounts ?? [])].sort(), ['a1', 'a2'])
  t.ok(scoped.accounts?.has('a2'))
  t.notOk(scoped.accounts?.has('a3'))
  const none = buildCredential('key', { subject: 'u', key: 's', accounts: [] }, hmacScheme)
  t.equal(none.accounts?.size, 0, 'an empty list scopes to no account at all, not to every account')
})

t.test('the verifier checks HMAC signatures made with the record\'s secret', async (t) => {
  const { verifier } = buildCredential('key', { subject: 'u', key: 'the-secret' }, hmacScheme)
  const good = createHmac('sha256', 'the-secret').update(message).digest('base64')
  t.equal(verifier.verify(message, good), 'valid')
  t.not(verifier.verify(message, createHmac('sha256', 'another').update(message).digest('base64')), 'valid', 'another secret')
  t.not(verifier.verify(Buffer.concat([message, Buffer.from('x')]), good), 'valid', 'another message')
})

t.test('a scheme override replaces the default field by field', async (t) => {
  const post = buildCredential('key', { subject: 'u', key: 'sec', scheme: { postEncoding: 'hexstr' } }, hmacScheme).verifier
  t.same(post.scheme, { ...hmacScheme, postEncoding: 'hexstr' }, 'only postEncoding changes')
  t.equal(post.verify(message, createHmac('sha256', 'sec').update(message).digest('hex')), 'valid')
  t.not(post.verify(message, createHmac('sha256', 'sec').update(message).digest('base64')), 'valid', 'the default post-encoding no longer verifies')

  const hash = buildCredential('key', { subject: 'u', key: 'sec', scheme: { hash: 'sha512' } }, hmacScheme).verifier
  t.same(hash.scheme, { ...hmacScheme, hash: 'sha512' }, 'only hash changes')
  t.equal(hash.verify(message, createHmac('sha512', 'sec').update(message).digest('base64')), 'valid')
  t.not(hash.verify(message, createHmac('sha256', 'sec').update(message).digest('base64')), 'valid')

  const pre = buildCredential('key', { subject: 'u', key: 'sec', scheme: { preEncoding: 'base64' } }, hmacScheme).verifier
  t.same(pre.scheme, { ...hmacScheme, preEncoding: 'base64' })
  t.equal(pre.verify(message, createHmac('sha256', 'sec').update(message.toString('base64')).digest('base64')), 'valid', 'the message is base64-encoded before the HMAC')

  t.same(buildCredential('key', { subject: 'u', key: 'sec', scheme: {} }, hmacScheme).verifier.scheme, hmacScheme, 'an empty override is the default')
  t.throws(() => buildCredential('key', { subject: 'u', key: 'sec', scheme: { hash: 'md5' as 'sha256' } }, hmacScheme), SchemeError, 'an unknown value is a SchemeError')
  t.throws(() => buildCredential('key', { subject: 'u', key: 'sec', scheme: { curve: 'secp256k1' } }, hmacScheme), SchemeError, 'a curve on HMAC is refused')
})

t.test('a PEM key made by openssl: ECDSA and RSA verifiers, public or private PEM', async (t) => {
  const ec = makeKeys('prime256v1')
  const ecdsa = { algorithm: 'ecdsa', hash: 'sha256' } as const
  const ecSignature = cryptoSign('sha256', message, ec.privateForms.pkcs8 as string).toString('base64')
  for (const [form, pem] of Object.entries({ ...ec.publicForms, ...ec.privateForms })) {
    const { verifier } = buildCredential('key', { subject: 'u', key: pem, scheme: ecdsa }, hmacScheme)
    t.same(verifier.scheme, { ...hmacScheme, ...ecdsa }, `${form}: preEncoding and postEncoding from the default`)
    t.equal(verifier.verify(message, ecSignature), 'valid', `${form}: verifies an openssl key's signature`)
    t.not(verifier.verify(Buffer.from('other'), ecSignature), 'valid', `${form}: not another message's`)
  }
  t.throws(() => buildCredential('key', { subject: 'u', key: ec.publicForms.spki as string, scheme: { algorithm: 'rsa' } }, hmacScheme), KeyError, 'an EC key for an RSA scheme')
  t.throws(() => buildCredential('key', { subject: 'u', key: ec.publicForms.spki as string, scheme: { ...ecdsa, curve: 'secp256k1' } }, hmacScheme), KeyError, 'a curve the key is not on')
  t.throws(() => buildCredential('key', { subject: 'u', key: 'not a pem', scheme: ecdsa }, hmacScheme), KeyError, 'garbage for a PEM')

  const rsa = makeKeys('rsa')
  const rsaScheme = { algorithm: 'rsa', hash: 'sha512', postEncoding: 'hexstr' } as const
  const rsaSignature = cryptoSign('sha512', message, rsa.privateForms.pkcs8 as string).toString('hex')
  for (const [form, pem] of Object.entries(rsa.publicForms)) {
    const { verifier } = buildCredential('key', { subject: 'u', key: pem, scheme: rsaScheme }, hmacScheme)
    t.same(verifier.scheme, { ...hmacScheme, ...rsaScheme }, `${form}: three fields overridden, one from the default`)
    t.equal(verifier.verify(message, rsaSignature), 'valid', `${form}: RSA`)
  }
})

t.test('an HMAC credential never takes an empty secret', async (t) => {
  t.throws(() => buildCredential('key', { subject: 'u', key: '\n' }, hmacScheme), KeyError)
})
