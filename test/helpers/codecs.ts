/**
 * Signature text codecs written from the RFCs for the tests, sharing no code
 * with src/signing (which uses @scure/base and its own base58): the bytes a
 * test flips are decoded and re-encoded here.
 */
export type PostEncoding = 'base64' | 'hexstr' | 'base58' | 'base32'

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
const B32 = 'abcdefghijklmnopqrstuvwxyz234567'

/** The characters each encoding writes (base32 lower case, as the gateway's signer and the official validator). */
export const ALPHABETS: Record<PostEncoding, string> = {
  base64: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
  hexstr: '0123456789abcdef',
  base58: B58,
  base32: B32,
}

function base58Encode(bytes: Buffer): string {
  let n = BigInt('0x' + (bytes.length ? bytes.toString('hex') : '0'))
  let out = ''
  while (n > 0n) {
    out = (B58[Number(n % 58n)] as string) + out
    n /= 58n
  }
  let zeros = 0
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++
  return '1'.repeat(zeros) + out
}

function base58Decode(text: string): Buffer | undefined {
  let n = 0n
  for (const ch of text) {
    const v = B58.indexOf(ch)
    if (v < 0) return undefined
    n = n * 58n + BigInt(v)
  }
  let hex = n === 0n ? '' : n.toString(16)
  if (hex.length % 2) hex = '0' + hex
  let zeros = 0
  while (zeros < text.length && text[zeros] === '1') zeros++
  return Buffer.concat([Buffer.alloc(zeros), Buffer.from(hex, 'hex')])
}

/** RFC 4648 base32, lower case, `=` padded. */
function base32Encode(bytes: Buffer): string {
  let bits = 0
  let value = 0
  let out = ''
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31]
  return out.padEnd(Math.ceil(out.length / 8) * 8, '=')
}

/** Lenient like most decoders: trailing bits that make no whole byte are dropped. */
function base32Decode(text: string): Buffer | undefined {
  const body = text.replace(/=+$/, '').toLowerCase()
  let bits = 0
  let value = 0
  const out: number[] = []
  for (const ch of body) {
    const v = B32.indexOf(ch)
    if (v < 0) return undefined
    value = ((value << 5) | v) & 0xffff
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255)
      bits -= 8
    }
  }
  return Buffer.from(out)
}

export function encode(encoding: PostEncoding, bytes: Buffer): string {
  switch (encoding) {
    case 'base64':
      return bytes.toString('base64')
    case 'hexstr':
      return bytes.toString('hex')
    case 'base58':
      return base58Encode(bytes)
    case 'base32':
      return base32Encode(bytes)
  }
}

/** The bytes a text names, read leniently (padding bits ignored); undefined for characters outside the alphabet. */
export function decode(encoding: PostEncoding, text: string): Buffer | undefined {
  switch (encoding) {
    case 'base64':
      return /^[A-Za-z0-9+/]*={0,2}$/.test(text) ? Buffer.from(text, 'base64') : undefined
    case 'hexstr':
      return /^(?:[0-9a-fA-F]{2})*$/.test(text) ? Buffer.from(text, 'hex') : undefined
    case 'base58':
      return base58Decode(text)
    case 'base32':
      return base32Decode(text)
  }
}
