/**
 * Base58 (Bitcoin alphabet, as the official validator's `bs58`) encoding by
 * divide and conquer over BigInt. Written by hand because the libraries convert
 * digit by digit, which is quadratic: base-x takes ~6.6 s for a 64 KiB message
 * and @scure/base refuses inputs over ~4 KiB, while a base58 pre-encoding must
 * encode the whole request before its signature can be checked. Splitting on
 * powers 58^(8·2^k) lets V8's sub-quadratic BigInt division do the work
 * (~45 ms for 64 KiB). Decoding only ever sees signatures, which are short, so
 * it stays with @scure/base.
 */
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
const LEAF_DIGITS = 8 // 58^8 < 2^53: a leaf converts as a plain Number
/** POWERS[k] = 58^(8·2^k), grown on demand and kept for later calls. */
const POWERS: bigint[] = [58n ** BigInt(LEAF_DIGITS)]

function power(level: number): bigint {
  while (POWERS.length <= level) {
    const last = POWERS[POWERS.length - 1] as bigint
    POWERS.push(last * last)
  }
  return POWERS[level] as bigint
}

function leaf(value: bigint, padded: boolean, out: string[]): void {
  let v = Number(value)
  let s = ''
  for (let i = 0; i < LEAF_DIGITS; i++) {
    s = ALPHABET[v % 58] + s
    v = Math.floor(v / 58)
    if (!padded && v === 0) break
  }
  out.push(s)
}

/** Appends the digits of `value` (< 58^(8·2^(level+1))), zero-padded to full width when `padded`. */
function digits(value: bigint, level: number, padded: boolean, out: string[]): void {
  if (level < 0) return leaf(value, padded, out)
  const divisor = power(level)
  if (!padded && value < divisor) return digits(value, level - 1, false, out)
  const high = value / divisor
  digits(high, level - 1, padded, out)
  digits(value - high * divisor, level - 1, true, out)
}

export function base58Encode(bytes: Uint8Array): string {
  let zeros = 0
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++
  const prefix = '1'.repeat(zeros)
  if (zeros === bytes.length) return prefix
  const value = BigInt('0x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex'))
  let level = 0
  while (power(level) <= value) level++
  const out: string[] = [prefix]
  digits(value, level - 1, false, out)
  return out.join('')
}
