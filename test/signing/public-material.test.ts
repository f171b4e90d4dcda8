import t from 'tap'
import { execFileSync } from 'node:child_process'
import { createPublicKey, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { hmacSecret, KeyError } from '../../src/signing/keys.js'
import { makeKeys } from '../helpers/keys.js'
import { makeAuthority } from '../helpers/tls.js'
import { tempDir } from '../helpers/temp.js'

/**
 * Attack reviews 7–9: a credential record whose HMAC secret is a public key or
 * certificate lets anyone holding it sign. Keys and certificate made by the
 * openssl CLI; every spelling an operator's record was shown to carry is
 * refused, and ordinary secrets are not.
 */
const dir = tempDir('nlgw-public-')
const openssl = (...args: string[]) => execFileSync('openssl', args)
const rsa = makeKeys('rsa', dir)
const k1 = makeKeys('secp256k1', dir)
const p256 = makeKeys('prime256v1', dir)
const certificate = makeAuthority('some-ca').issue('server', 'server')
const rsaDer = openssl('pkey', '-pubin', '-in', rsa.publicPath, '-outform', 'DER')
const certDer = openssl('x509', '-in', certificate.certFile, '-outform', 'DER')
const k1Der = openssl('pkey', '-pubin', '-in', k1.publicPath, '-outform', 'DER')
// The EC point: the last 65 bytes of the SPKI (an uncompressed point).
const k1Point = k1Der.subarray(k1Der.length - 65)
const armourless = (rsa.publicForms.spki as string).replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '')
const jwk = JSON.stringify(createPublicKey(rsa.publicForms.spki as string).export({ format: 'jwk' }))

const refused: Record<string, string> = {
  'PEM (SPKI)': rsa.publicForms.spki as string,
  'PEM (PKCS#1)': rsa.publicForms.pkcs1 as string,
  'PEM with CRLF': (rsa.publicForms.spki as string).replace(/\n/g, '\r\n'),
  'PEM in lower-case armour': (rsa.publicForms.spki as string).toLowerCase().replace(/^-----begin public key-----/, '-----begin public key-----'),
  'PEM with four-dash armour': (rsa.publicForms.spki as string).replace(/-----/g, '----'),
  'a certificate PEM': readFileSync(certificate.certFile, 'utf8'),
  'the PEM, base64': Buffer.from(rsa.publicForms.spki as string).toString('base64'),
  'armourless base64': armourless,
  'armourless, with escaped newlines': armourless.replace(/(.{64})/g, '$1\\n'),
  'armourless, quoted': `"${armourless}"`,
  'armourless, a stray character after it': `${armourless}x`,
  'DER, hex': rsaDer.toString('hex'),
  'DER, hex with colons': [...rsaDer].map((b) => b.toString(16).padStart(2, '0')).join(':'),
  'DER, base64url': rsaDer.toString('base64url'),
  'a certificate, DER hex': certDer.toString('hex'),
  'a certificate, DER base64url': certDer.toString('base64url'),
  'secp256k1 DER, hex': k1Der.toString('hex'),
  'a P-256 PEM': p256.publicForms.spki as string,
  'a secp256k1 point, hex': k1Point.toString('hex'),
  'a secp256k1 point, base64': k1Point.toString('base64'),
  'a secp256k1 point, 0x hex': `0x${k1Point.toString('hex')}`,
  'a secp256k1 point without its 04 (x ‖ y), hex': k1Point.subarray(1).toString('hex'),
  'DER, 0x hex': `0x${rsaDer.toString('hex')}`,
  'DER, hex with dashes': [...rsaDer].map((b) => b.toString(16).padStart(2, '0')).join('-'),
  'DER, hex: prefix': `hex:${rsaDer.toString('hex')}`,
  'DER, base64: prefix': `base64:${rsaDer.toString('base64')}`,
  'DER, base64, URL-encoded': encodeURIComponent(rsaDer.toString('base64')),
  'DER, base64 of its base64 (a Kubernetes Secret value)': Buffer.from(rsaDer.toString('base64')).toString('base64'),
  'DER, base64 of its hex': Buffer.from(rsaDer.toString('hex')).toString('base64'),
  'an OpenSSH public key': `ssh-rsa ${Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from('ssh-rsa')]).toString('base64')}AAAADAQABAAABAQ user@host`,
  'a JWK': jwk,
  'a JWKS': JSON.stringify({ keys: [JSON.parse(jwk)] }),
  'a JWK after a byte-order mark': `\uFEFF${jwk}`,
  'a JWK as an escaped JSON string': JSON.stringify(jwk),
  'a JWK without kty': JSON.stringify({ n: JSON.parse(jwk).n, e: JSON.parse(jwk).e }),
  'armourless, labelled as JSON': JSON.stringify({ publicKey: armourless }),
  'armourless, labelled public_key:': `public_key: ${armourless}`,
  'armourless, labelled PUBKEY=': `PUBKEY=${armourless}`,
  'armourless, labelled rsa:': `rsa:${armourless}`,
  'armourless, after key-': `key-${armourless}`,
  'DER hex after pk_': `pk_${rsaDer.toString('hex')}`,
  'armourless after pk_ (attack review 12)': `pk_${armourless}`,
  'armourless after pub;': `pub;${armourless}`,
  'armourless inside publicKey(…)': `publicKey(${armourless})`,
  'an EC key after key#': `key#${k1Der.toString('base64')}`,
  'a label, then base64 over several lines': `Public key:\n${armourless.replace(/(.{64})/g, '$1\n')}`,
  'a label, then base64 over CRLF lines of 76': `key: ${armourless.replace(/(.{76})/g, '$1\r\n')}`,
  'PUBLIC KEY, then base64 lines': `PUBLIC KEY\n${armourless.replace(/(.{64})/g, '$1\n')}`,
  'a long label, a space, then base64 lines (attack review 13)': `${'the exchange public verification key for the production environment'.repeat(2)} ${armourless.replace(/(.{64})/g, '$1\n')}`,
  'PEM with two-dash armour': (rsa.publicForms.spki as string).replace(/-----/g, '--'),
  'DER, base64, URL-encoded twice': encodeURIComponent(encodeURIComponent(rsaDer.toString('base64'))),
  'binary DER read as text': rsaDer.toString('utf8'),
  'a NUL inside': 'secret\u0000more',
}
for (const [spelling, secret] of Object.entries(refused)) {
  t.throws(() => hmacSecret(secret), KeyError, `refused: ${spelling}`)
}

const ordinary = ['s', 'env-secret', 'correct horse battery staple', 'begin with the key', 'BeginnerKey2024!', 'rotate: begin new key 2025', randomBytes(32).toString('hex'), randomBytes(32).toString('base64'), randomBytes(64).toString('base64url'), `04${randomBytes(64).toString('hex')}`, 'MIIB-looks-like-base64-but-is-a-password']
for (const secret of ordinary) {
  t.doesNotThrow(() => hmacSecret(secret), `an ordinary secret is accepted: ${secret.slice(0, 24)}…`)
}

t.test('random secrets in the usual formats are never taken for keys (attack review 10: 0.6% were, as compressed EC points)', async (t) => {
  const alphanumeric = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  const formats: Record<string, () => string> = {
    'base64 of 33 bytes': () => randomBytes(33).toString('base64'),
    'hex of 33 bytes': () => randomBytes(33).toString('hex'),
    'upper-case hex, 44 characters': () => randomBytes(22).toString('hex').toUpperCase(),
    '44 alphanumerics': () => Array.from(randomBytes(44), (b) => alphanumeric[b % alphanumeric.length]).join(''),
    'a label, then base64 of 48 bytes': () => `user: ${randomBytes(48).toString('base64')}`,
  }
  for (const [format, make] of Object.entries(formats)) {
    const refused = Array.from({ length: 2000 }, make).filter((secret) => {
      try {
        hmacSecret(secret)
        return false
      } catch {
        return true
      }
    })
    t.same(refused, [], `${format}: none of 2,000 refused`)
  }
})
