import t from 'tap'
import fc from 'fast-check'
import { preEncode } from '../../src/signing/encodings.js'
import { createSigner, createVerifier, type SigningScheme } from '../../src/signing/index.js'
import { independent, type IndependentCase } from '../helpers/independent.js'
import { hmacSecretFile } from '../helpers/keys.js'

/**
 * The `url-encoded` pre-encoding: for UTF-8 messages exactly what the
 * official validator signs (JavaScript's encodeURIComponent of the message);
 * for any other bytes, each byte escaped as itself, so that two different
 * bodies never pre-encode alike (decoding to text first would turn every
 * invalid byte into U+FFFD). Checked against Python (urllib.parse.quote over
 * the bytes, hmac, hashlib; test/fixtures/independent.py) and against a byte
 * encoder written here.
 */

/** What encodeURIComponent leaves alone. */
const KEEP = /^[A-Za-z0-9\-_.!~*'()]$/
function percentEncodeBytes(bytes: Buffer): Buffer {
  let out = ''
  for (const b of bytes) {
    const ch = String.fromCharCode(b)
    out += b < 0x80 && KEEP.test(ch) ? ch : '%' + b.toString(16).toUpperCase().padStart(2, '0')
  }
  return Buffer.from(out, 'latin1')
}

const head = Buffer.from('1700000000000nonce-1POST/accounts/acc-1/transfers')
const invalid: Array<[string, Buffer]> = [
  ['\\x80\\x81', Buffer.from([0x80, 0x81])],
  ['\\xff\\xfe', Buffer.from([0xff, 0xfe])],
  ['lone continuation \\xbf', Buffer.from([0xbf])],
  ['truncated € \\xe2\\x82', Buffer.from([0xe2, 0x82])],
  ['overlong / \\xc0\\xaf', Buffer.from([0xc0, 0xaf])],
  ['UTF-16 surrogate \\xed\\xa0\\x80', Buffer.from([0xed, 0xa0, 0x80])],
  ['beyond U+10FFFF \\xf4\\x90\\x80\\x80', Buffer.from([0xf4, 0x90, 0x80, 0x80])],
  ['valid é then \\x80', Buffer.from([0xc3, 0xa9, 0x80])],
  ['U+FFFD itself', Buffer.from('\ufffd', 'utf8')],
]
const messages = invalid.map(([what, tail]) => [what, Buffer.concat([head, Buffer.from('{"memo":"'), tail, Buffer.from('"}')])] as const)

t.test('invalid UTF-8: each byte escaped as itself, so different bytes never sign alike', async (t) => {
  const seen = new Map<string, string>()
  for (const [what, message] of messages) {
    const encoded = preEncode('url-encoded', message)
    t.same(encoded, percentEncodeBytes(message), `${what}: every byte %XX or kept`)
    const text = encoded.toString('latin1')
    t.notOk(seen.has(text), `${what}: pre-encodes unlike ${seen.get(text) ?? 'any other'}`)
    seen.set(text, what)
  }
  t.not(preEncode('url-encoded', Buffer.from([0x80, 0x81])).toString(), preEncode('url-encoded', Buffer.from([0xff, 0xfe])).toString())
  t.equal(preEncode('url-encoded', Buffer.from([0x80, 0x81])).toString(), '%80%81')
  t.equal(preEncode('url-encoded', Buffer.from([0xff, 0xfe])).toString(), '%FF%FE')
  const scheme: SigningScheme = { algorithm: 'hmac', hash: 'sha256', preEncoding: 'url-encoded', postEncoding: 'base64' }
  const signer = createSigner(scheme, 'k')
  t.not(signer.sign(Buffer.from([0x80, 0x81])), signer.sign(Buffer.from([0xff, 0xfe])), '\\x80\\x81 and \\xff\\xfe: different signatures')
  t.not(signer.sign(Buffer.from([0x80])), signer.sign(Buffer.from('\ufffd')), '\\x80 and U+FFFD: different signatures')
})

t.test('interop with Python over invalid UTF-8 and random bytes, both directions (HMAC)', async (t) => {
  const secret = 'url-enc-' + Math.random().toString(36).slice(2)
  const keyFile = hmacSecretFile(secret, t.testdir())
  const random = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 48 }), { numRuns: 150, seed: 42 }).map((bytes, i) => [`random bytes #${i}`, Buffer.concat([head, Buffer.from(bytes)])] as const)
  const all = [...messages, ...random]
  for (const [hash, postEncoding] of [['sha256', 'base64'], ['sha3-256', 'hexstr']] as const) {
    const scheme: SigningScheme = { algorithm: 'hmac', hash, preEncoding: 'url-encoded', postEncoding }
    const label = `hmac-${hash}/${postEncoding}`
    const base = { algorithm: 'hmac', hash, pre: 'url-encoded', post: postEncoding, key: keyFile }
    const signed = independent(all.map(([, message]): IndependentCase => ({ op: 'sign', message, ...base })))
    const verifier = createVerifier(scheme, secret)
    const signer = createSigner(scheme, secret)
    all.forEach(([what, message], i) => {
      const theirs = signed[i]?.signature as string
      if (verifier.verify(message, theirs) !== 'valid') t.fail(`${label} ${what}: Python's signature refused`)
      if (signer.sign(message) !== theirs) t.fail(`${label} ${what}: our signature differs from Python's`)
    })
    t.pass(`${label}: ours and Python's signatures agree on all ${all.length} messages`)
    const verified = independent([
      ...all.map(([, message]): IndependentCase => ({ op: 'verify', message, signature: signer.sign(message), ...base })),
      // Python is no rubber stamp: \x80\x81 signed, \xff\xfe claimed
      { op: 'verify', message: Buffer.from([0xff, 0xfe]), signature: signer.sign(Buffer.from([0x80, 0x81])), ...base },
    ])
    t.equal(verified.slice(0, all.length).filter((r) => r.valid === true).length, all.length, `${label}: Python verifies all ${all.length} of ours`)
    t.equal(verified[all.length]?.valid, false, `${label}: Python refuses \\x80\\x81's signature for \\xff\\xfe`)
  }
})

t.test('valid UTF-8: the same bytes as encodeURIComponent (the validator), over random full-Unicode strings', async (t) => {
  const runs = 10_000
  const started = performance.now()
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => preEncode('url-encoded', Buffer.from(s, 'utf8')).equals(Buffer.from(encodeURIComponent(s), 'latin1'))),
    { numRuns: runs },
  )
  // and over arbitrary bytes: the byte encoder above, and encodeURIComponent wherever the bytes are UTF-8
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  let wellFormed = 0
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      const message = Buffer.from(bytes)
      const encoded = preEncode('url-encoded', message)
      if (!encoded.equals(percentEncodeBytes(message))) return false
      let text: string
      try {
        text = utf8.decode(bytes)
      } catch {
        return true
      }
      wellFormed++
      return encoded.toString('latin1') === encodeURIComponent(text)
    }),
    { numRuns: runs },
  )
  t.comment(`${2 * runs} cases (${wellFormed} random byte strings were UTF-8) in ${Math.round(performance.now() - started)} ms`)
  t.ok(wellFormed > 100, 'random bytes include valid UTF-8')
})
