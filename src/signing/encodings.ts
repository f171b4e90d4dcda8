import { base32, base58 } from '@scure/base'
import { base58Encode } from './base58.js'
import type { PostEncoding, PreEncoding } from './scheme.js'

/**
 * The longest signature text any supported key produces is ~1,400 characters
 * (base58 of an RSA-8192 signature). Longer input is refused before decoding,
 * so a hostile header cannot buy quadratic work from the base58 decoder.
 */
export const MAX_SIGNATURE_TEXT = 2048

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const HEX = /^(?:[0-9a-fA-F]{2})+$/
const BASE32_BODY = /^[A-Za-z2-7]+$/

type TextEncoding = Exclude<PreEncoding, 'plain' | 'url-encoded'>

function encodeText(encoding: TextEncoding, bytes: Buffer): string {
  switch (encoding) {
    case 'base64':
      return bytes.toString('base64')
    case 'hexstr':
      return bytes.toString('hex')
    case 'base58':
      return base58Encode(bytes)
    case 'base32':
      // Lower case with padding, as the official validator (hi-base32, lower-cased).
      return base32.encode(bytes).toLowerCase()
  }
}

/** The bytes `encodeURIComponent` leaves as they are: A–Z a–z 0–9 - _ . ! ~ * ' ( ) */
const URI_COMPONENT = new Uint8Array(256)
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()") URI_COMPONENT[c.charCodeAt(0)] = 1
const HEX_DIGITS = Buffer.from('0123456789ABCDEF', 'latin1')

/**
 * `encodeURIComponent` over bytes rather than text: for UTF-8 input the same
 * output as the validator's `encodeURIComponent(message)`, and every other
 * byte escaped as itself, so two different bodies never pre-encode alike
 * (decoding to text first would turn every invalid byte into U+FFFD).
 */
function percentEncode(bytes: Buffer): Buffer {
  let escaped = 0
  for (let i = 0; i < bytes.length; i++) if (URI_COMPONENT[bytes[i] as number] === 0) escaped++
  if (escaped === 0) return bytes
  const out = Buffer.allocUnsafe(bytes.length + 2 * escaped)
  let j = 0
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number
    if (URI_COMPONENT[b] === 1) out[j++] = b
    else {
      out[j++] = 0x25
      out[j++] = HEX_DIGITS[b >> 4] as number
      out[j++] = HEX_DIGITS[b & 15] as number
    }
  }
  return out
}

/** Applies a pre-encoding to the message bytes: the bytes that are actually signed. */
export function preEncode(encoding: PreEncoding, message: Buffer): Buffer {
  switch (encoding) {
    case 'plain':
      return message
    case 'url-encoded':
      return percentEncode(message)
    default:
      return Buffer.from(encodeText(encoding, message), 'latin1')
  }
}

export function postEncode(encoding: PostEncoding, signature: Buffer): string {
  return encodeText(encoding, signature)
}

/**
 * Decodes signature text; `undefined` when it is not valid in that encoding.
 * Strict where the encoding allows it (no silently skipped characters), lenient
 * where the spec is silent: base32 in either letter case, with or without padding;
 * base64 with or without padding.
 */
export function postDecode(encoding: PostEncoding, text: string): Buffer | undefined {
  if (text.length === 0 || text.length > MAX_SIGNATURE_TEXT) return undefined
  switch (encoding) {
    case 'base64':
      return BASE64.test(text) && text.length % 4 !== 1 ? Buffer.from(text, 'base64') : undefined
    case 'hexstr':
      return HEX.test(text) ? Buffer.from(text, 'hex') : undefined
    case 'base58':
      return attempt(() => base58.decode(text))
    case 'base32': {
      const body = text.replace(/=+$/, '')
      if (!BASE32_BODY.test(body)) return undefined
      return attempt(() => base32.decode(body.toUpperCase().padEnd(Math.ceil(body.length / 8) * 8, '=')))
    }
  }
}

function attempt(decode: () => Uint8Array): Buffer | undefined {
  try {
    const bytes = decode()
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  } catch {
    return undefined
  }
}
