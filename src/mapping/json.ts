import { randomUUID } from 'node:crypto'
import { parse as parseLossless } from 'lossless-json'

/**
 * JSON in and out of the backend. By default bodies are parsed with
 * JSON.parse (fast); routes with `exactNumbers` parse numbers that a double
 * cannot hold exactly into ExactNumber, keeping their text for $decimal.
 * Request bodies built for the backend may carry exact numbers (RawNumber,
 * bigint), which are written verbatim.
 */
export class ExactNumber {
  constructor(readonly text: string) {}
  /** Outside $decimal it behaves as JSON.parse would have made it. */
  toJSON(): number {
    return Number(this.text)
  }
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/

/** A number to be written into JSON exactly as this text. */
export class RawNumber {
  constructor(readonly text: string) {
    if (!JSON_NUMBER.test(text)) throw new TypeError(`${JSON.stringify(text)} is not a JSON number`)
  }
  /** In Network Link responses (plain JSON.stringify) it is an ordinary number; stringifyJson writes it exactly. */
  toJSON(): number {
    return Number(this.text)
  }
}

const SAFE_INTEGER = /^-?\d{1,15}$/

/** With `exactNumbers`, only small integers become numbers; every other literal keeps its text. */
export function parseJson(text: string, exactNumbers: boolean): unknown {
  if (!exactNumbers) return JSON.parse(text)
  return parseLossless(text, null, (literal) => (SAFE_INTEGER.test(literal) ? Number(literal) : new ExactNumber(literal)))
}

/** Unguessable per process, so no string from a request can pose as a raw number. */
const MARK = `nlgw-raw-${randomUUID()}:`
const MARKED = new RegExp(`"${MARK}(-?[0-9.eE+]+)"`, 'g')

/** JSON.stringify that writes bigint and RawNumber values as bare numbers. */
export function stringifyJson(value: unknown): string {
  let raw = false
  const text = JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
    // The replacer sees toJSON's result; the holder still has the RawNumber itself.
    const original = this[key]
    if (original instanceof RawNumber) {
      raw = true
      return MARK + original.text
    }
    if (typeof v === 'bigint') {
      raw = true
      return MARK + v.toString()
    }
    return v
  })
  return raw ? text.replace(MARKED, '$1') : text
}
