/**
 * Exact decimal conversions for money. Values are handled as digit strings
 * and powers of ten, never as binary floating point, so 1.1 + 2.2 style
 * errors cannot occur.
 *
 * A JSON number reaches us as a double. Doubles hold every decimal of up to
 * 15 significant digits exactly (their shortest representation is that
 * decimal); beyond that, or beyond 2^53 for integers, digits may already be
 * lost, so such values are refused rather than guessed. Backends that send
 * them can turn on exact number parsing (`exactNumbers`), which delivers
 * them as ExactNumber text.
 */
import { ExactNumber } from './json.js'

export class DecimalError extends Error {
  override name = 'DecimalError'
}

/** value = (negative ? -1 : 1) × digits × 10^exponent; digits has no leading zeros ('' for zero). */
interface Decimal {
  negative: boolean
  digits: string
  exponent: number
}

const NUMERIC = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/
/**
 * No amount has more digits than this on either side of the point. A client's
 * "1e100000000" would otherwise become a hundred-million-digit string or
 * BigInt on the event loop (seconds of CPU, then out of memory).
 */
export const MAX_DIGITS = 80
const ZERO = 48 // '0'
/** Integers below this have at most 15 digits: exact as doubles, whatever text they came from. */
const EXACT_INTEGERS = 1e15

function parseText(text: string): Decimal {
  const m = NUMERIC.exec(text)
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new DecimalError(`${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)} is not a number`)
  const fraction = m[3] ?? ''
  const digits = ((m[2] ?? '') + fraction).replace(/^0+/, '')
  const exponent = Number(m[4] ?? 0) - fraction.length
  const significant = digits.replace(/0+$/, '')
  const lowest = exponent + (digits.length - significant.length)
  if (significant !== '' && (lowest + significant.length > MAX_DIGITS || -lowest > MAX_DIGITS)) {
    throw new DecimalError(`${text.length > 40 ? `${text.slice(0, 40)}…` : text} has more than ${MAX_DIGITS} digits before or after the point`)
  }
  return { negative: m[1] === '-' && digits !== '', digits, exponent }
}

function fromNumber(n: number): Decimal {
  if (!Number.isFinite(n)) throw new DecimalError(`${n} is not a finite number`)
  if (Number.isInteger(n) && !Number.isSafeInteger(n)) {
    throw new DecimalError(`${n} is beyond 2^53 and may have lost digits; send it as a string or enable exactNumbers`)
  }
  const decimal = parseText(String(n))
  if (decimal.digits.replace(/0+$/, '').length > 15) {
    throw new DecimalError(`${n} has more than 15 significant digits and may have lost some; send it as a string or enable exactNumbers`)
  }
  return decimal
}

function toDecimal(value: unknown): Decimal {
  if (typeof value === 'number') return fromNumber(value)
  if (typeof value === 'string') return parseText(value.trim())
  if (typeof value === 'bigint') return parseText(value.toString())
  if (value instanceof ExactNumber) return parseText(value.text)
  throw new DecimalError(`${value === undefined ? 'a missing value' : JSON.stringify(value)} is not a number`)
}

/** Plain decimal notation: no exponent, no leading or trailing zeros, "0" for zero. */
function format(negative: boolean, digits: string, exponent: number): string {
  let end = digits.length
  while (end > 0 && digits.charCodeAt(end - 1) === ZERO) end--
  if (end === 0) return '0'
  const trimmed = end === digits.length ? digits : digits.slice(0, end)
  const exp = exponent + (digits.length - end)
  let text: string
  if (exp >= 0) text = trimmed + '0'.repeat(exp)
  else if (-exp >= trimmed.length) text = '0.' + '0'.repeat(-exp - trimmed.length) + trimmed
  else text = trimmed.slice(0, exp) + '.' + trimmed.slice(exp)
  return negative ? '-' + text : text
}

/**
 * A Network Link decimal string from a number, a numeric string or an exact
 * number; with `scale`, the value is in minor units (integer hundredths for
 * scale 2, satoshis for scale 8) and the point moves `scale` places left.
 */
export function toDecimalString(value: unknown, scale = 0): string {
  if (!Number.isInteger(scale) || scale < 0 || scale > 100) throw new DecimalError(`scale ${scale} must be an integer from 0 to 100`)
  // Integer minor units are what most backends send: formatted from their digits, without the
  // text parsing (0.30 → 0.06 µs an amount, and a balances page has dozens).
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < EXACT_INTEGERS) return format(value < 0, String(Math.abs(value)), -scale)
  const decimal = toDecimal(value)
  return format(decimal.negative, decimal.digits, decimal.exponent - scale)
}

/**
 * Integer minor units from a decimal: "1.5" at scale 8 → 150000000n. A value
 * with more decimal places than `scale` cannot be represented and is refused:
 * money is never silently truncated.
 */
export function toMinorUnits(value: unknown, scale: number): bigint {
  if (!Number.isInteger(scale) || scale < 0 || scale > 100) throw new DecimalError(`scale ${scale} must be an integer from 0 to 100`)
  const decimal = toDecimal(value)
  const trimmed = decimal.digits.replace(/0+$/, '')
  const exponent = decimal.exponent + (decimal.digits.length - trimmed.length) + scale
  if (trimmed === '') return 0n
  if (exponent < 0) throw new DecimalError(`${format(decimal.negative, decimal.digits, decimal.exponent)} has more than ${scale} decimal places`)
  const minor = BigInt(trimmed + '0'.repeat(exponent))
  return decimal.negative ? -minor : minor
}
