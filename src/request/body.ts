import { isSafeNumber, parse } from 'lossless-json'
import { ERRORS, GatewayError } from '../errors.js'

/**
 * A request body, parsed once into the value mappings, validation and
 * idempotency read. The signature covers the bytes; the backend acts on the
 * value; so a body whose bytes could mean two values is refused: bytes that
 * are not UTF-8, a key given twice with different values (JSON.parse keeps the
 * last one, other parsers the first), a number a double cannot hold (`1e400`
 * would reach the backend as null, 2^53 + 1 as 2^53), and nesting deeper than
 * any Network Link body needs (recursive code would overflow the stack).
 *
 * lossless-json detects duplicate keys, escaped spellings included, and hands
 * over each number's text; it costs ~7 µs for a 544-byte body against ~2 µs
 * for JSON.parse, paid on create requests only.
 */
export const MAX_JSON_DEPTH = 32

// ignoreBOM: a leading byte-order mark is kept, and refused by the parser like any other stray character.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function invalid(message: string): GatewayError {
  return new GatewayError(ERRORS.invalidJson, { message })
}

/** The deepest nesting of arrays and objects, counted outside strings. */
export function jsonDepth(text: string): number {
  let depth = 0
  let max = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c /* \ */) i++
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) max = depth
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--
  }
  return max
}

function exactNumber(text: string): number {
  if (!isSafeNumber(text)) throw invalid(`Request body number ${text.length > 40 ? `${text.slice(0, 40)}…` : text} cannot be represented exactly; send it as a string`)
  return Number(text)
}

/** The body's JSON value; undefined for an empty body. Throws the Network Link 400 otherwise. */
export function parseJsonBody(raw: Buffer | undefined): unknown {
  if (raw === undefined || raw.length === 0) return undefined
  let text: string
  try {
    text = utf8.decode(raw)
  } catch {
    throw invalid('Request body is not valid UTF-8')
  }
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw invalid(`Request body nests deeper than ${MAX_JSON_DEPTH} levels`)
  try {
    return parse(text, null, {
      parseNumber: exactNumber,
      onDuplicateKey: ({ key }) => {
        throw invalid(`Request body gives the key "${key}" more than once`)
      },
    })
  } catch (err) {
    if (err instanceof GatewayError) throw err
    throw new GatewayError(ERRORS.invalidJson)
  }
}
