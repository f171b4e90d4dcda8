import t from 'tap'
import { randomBytes } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { base58 } from '@scure/base'
import { base58Encode } from '../../src/signing/base58.js'
import { postDecode, postEncode, preEncode, MAX_SIGNATURE_TEXT } from '../../src/signing/encodings.js'
import { POST_ENCODINGS } from '../../src/signing/scheme.js'

const python = (code: string, input: Buffer): string => {
  const res = spawnSync('python3', ['-c', code], { input })
  if (res.status !== 0) throw new Error(res.stderr.toString())
  return res.stdout.toString()
}

t.test('base58 encoding matches @scure/base and an independent Python bignum loop', async (t) => {
  const samples = [Buffer.alloc(0), Buffer.from([0]), Buffer.from([0, 0, 1]), Buffer.from([255]), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 58])]
  for (let n = 1; n <= 600; n += 7) samples.push(randomBytes(n))
  for (const bytes of samples) t.equal(base58Encode(bytes), base58.encode(bytes), `${bytes.length} bytes`)
  // Large inputs, beyond what @scure/base accepts, against Python's arbitrary-precision ints.
  const large = Buffer.concat([Buffer.alloc(3), randomBytes(20000)])
  const expected = python(
    `import sys
B='123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
d=sys.stdin.buffer.read(); n=int.from_bytes(d,'big'); o=[]
while n: n,r=divmod(n,58); o.append(B[r])
sys.stdout.write('1'*(len(d)-len(d.lstrip(b'\\0')))+''.join(reversed(o)))`,
    large,
  )
  t.equal(base58Encode(large), expected, '20 KiB with leading zeros')
})

t.test('pre-encodings produce the text the validator signs', async (t) => {
  const message = Buffer.from('1691606624184c3d5f400-0e7e-4f94-a199-44b8cc7b6b81POST/a?b=c d{"x":"é"}', 'utf8')
  t.equal(preEncode('plain', message), message)
  t.equal(preEncode('url-encoded', message).toString(), encodeURIComponent(message.toString()))
  t.equal(preEncode('base64', message).toString(), message.toString('base64'))
  t.equal(preEncode('hexstr', message).toString(), message.toString('hex'))
  const b32 = preEncode('base32', message).toString()
  t.equal(b32, python('import sys,base64; sys.stdout.write(base64.b32encode(sys.stdin.buffer.read()).decode().lower())', message))
  t.match(b32, /^[a-z2-7]+=*$/, 'base32 is lower case with padding, as the validator')
})

t.test('post-decoding accepts both letter cases and missing padding for base32', async (t) => {
  const sig = randomBytes(33)
  const encoded = postEncode('base32', sig)
  t.ok(encoded.endsWith('='), 'padded when encoding')
  for (const variant of [encoded, encoded.toUpperCase(), encoded.replace(/=+$/, ''), encoded.toUpperCase().replace(/=+$/, '')]) {
    t.same(postDecode('base32', variant), sig, variant)
  }
  t.same(postDecode('base64', sig.toString('base64').replace(/=+$/, '')), sig, 'base64 without padding')
  t.same(postDecode('hexstr', sig.toString('hex').toUpperCase()), sig, 'upper-case hex')
})

t.test('post-decoding refuses what is not valid text in the encoding', async (t) => {
  const bad: Record<string, string[]> = {
    base64: ['', 'ab$d', 'a===', 'abcde', 'ab cd', 'ab=cd'],
    hexstr: ['', 'abc', 'zz', '0x00', 'ab cd'],
    base58: ['', '0OIl', 'abc+', '===='],
    base32: ['', 'abc1', 'a', 'abc=def', '89'],
  }
  for (const encoding of POST_ENCODINGS) {
    for (const text of bad[encoding] as string[]) t.equal(postDecode(encoding, text), undefined, `${encoding} ${JSON.stringify(text)}`)
    t.equal(postDecode(encoding, 'a'.repeat(MAX_SIGNATURE_TEXT + 1)), undefined, `${encoding} over the length bound`)
    const sig = randomBytes(256)
    t.same(postDecode(encoding, postEncode(encoding, sig)), sig, `${encoding} round trip of an RSA-2048-sized value`)
  }
})
