import { LegacyError } from './errors.js'

/**
 * Exact money arithmetic: the ledger keeps BigInt minor units, prices and fees are
 * BigInt ratios, and nothing passes through floating point until a value is written
 * as a JSON number (which is then checked to be exactly representable).
 */

const DECIMAL = /^(\d+)(?:\.(\d+))?$/

/** A non-negative rational number. */
export interface Ratio {
  num: bigint
  den: bigint
}

export type Rounding = 'down' | 'up'

/** "12.340" at 2 decimals → 1234n. More significant decimals than the ledger keeps is refused, never rounded. */
export function toMinor(text: string, decimals: number, field: string): bigint {
  const match = DECIMAL.exec(text)
  if (!match) throw new LegacyError('INVALID_FIELD', `${field} must be a decimal string such as "12.5"`, field)
  const whole = match[1] as string
  const fraction = (match[2] ?? '').replace(/0+$/, '')
  if (fraction.length > decimals) {
    throw new LegacyError('AMOUNT_PRECISION', `${field} has more than ${decimals} decimal places`, field)
  }
  const minor = BigInt(whole + fraction.padEnd(decimals, '0'))
  // Minor units are written as JSON integers, which stay exact only up to 2^53 - 1.
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) throw new LegacyError('AMOUNT_TOO_LARGE', `${field} is too large`, field)
  return minor
}

/** 1234n at 2 decimals → "12.34"; canonical: no trailing zeros, no exponent. */
export function formatMinor(minor: bigint, decimals: number): string {
  const negative = minor < 0n
  const digits = (negative ? -minor : minor).toString().padStart(decimals + 1, '0')
  const whole = digits.slice(0, digits.length - decimals)
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, '')
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`
}

/** A minor-unit amount as a JSON integer. */
export function minorJson(minor: bigint): number {
  if (minor > BigInt(Number.MAX_SAFE_INTEGER) || minor < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`${minor} does not fit a JSON integer`)
  }
  return Number(minor)
}

/** Values with up to 15 significant digits round-trip exactly through an IEEE double. */
const exactAsNumber = (minor: bigint): boolean => (minor < 0n ? -minor : minor).toString().replace(/0+$/, '').length <= 15

/** Refuse, before anything is booked, an amount that a JSON-number field could not carry exactly. */
export function checkNumberExact(minor: bigint, field: string): void {
  if (!exactAsNumber(minor)) throw new LegacyError('AMOUNT_TOO_LARGE', `${field} has too many significant digits`, field)
}

/** A minor-unit amount as a JSON number in major units (e.g. 1234n, 2 → 12.34). */
export function minorAsNumber(minor: bigint, decimals: number): number {
  if (!exactAsNumber(minor)) throw new RangeError(`${formatMinor(minor, decimals)} is not exact as a JSON number`)
  return Number(formatMinor(minor, decimals))
}

export function ratio(text: string): Ratio {
  const match = DECIMAL.exec(text)
  if (!match) throw new RangeError(`not a decimal: ${text}`)
  const fraction = match[2] ?? ''
  return { num: BigInt((match[1] as string) + fraction), den: 10n ** BigInt(fraction.length) }
}

export const multiply = (a: Ratio, b: Ratio): Ratio => ({ num: a.num * b.num, den: a.den * b.den })
export const divide = (a: Ratio, b: Ratio): Ratio => ({ num: a.num * b.den, den: a.den * b.num })

/** The share left after a fee of `bps` basis points. */
export const afterFee = (bps: number): Ratio => ({ num: BigInt(10_000 - bps), den: 10_000n })

function divideRounded(num: bigint, den: bigint, rounding: Rounding): bigint {
  const quotient = num / den
  return rounding === 'up' && quotient * den !== num ? quotient + 1n : quotient
}

/** minor (at `from` decimals) × r, expressed in minor units at `to` decimals. */
export function convertMinor(minor: bigint, from: number, to: number, r: Ratio, rounding: Rounding): bigint {
  return divideRounded(minor * r.num * 10n ** BigInt(to), r.den * 10n ** BigInt(from), rounding)
}

/** r rounded half-up to `places` decimals, as a JSON number (prices are shown to 8 places). */
export function ratioAsNumber(r: Ratio, places: number): number {
  const scaled = divideRounded(r.num * 10n ** BigInt(places) * 2n + r.den, r.den * 2n, 'down')
  return minorAsNumber(scaled, places)
}
