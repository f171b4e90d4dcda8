import { ERRORS, GatewayError } from '../errors.js'

/**
 * The request target, parsed once where the request arrives, into the one
 * value every decision reads: the route, the account scope, the platform
 * signature requirement, the idempotency scope, the signed endpoint and the
 * upstream path. Nothing else reads the raw URL.
 *
 * Anything another component could read differently is refused rather than
 * normalised: absolute-form and authority-form targets, a base path that is
 * not a whole-segment prefix, percent-escapes of unreserved characters or of
 * `/` and `\`, dot segments, empty segments, `;` (path parameters to Java
 * servers), control characters and malformed escapes or UTF-8. What is left
 * decodes one way only, so the router, the backend and Fireblocks agree with
 * the gateway on which resource a request names; and the signature still
 * covers the target exactly as received.
 */
export interface RequestTarget {
  /** What the signature covers: the target as received, minus the base path. */
  endpoint: string
  /** The path's segments after the base path, percent-decoded. */
  segments: readonly string[]
  /** The same path re-encoded from `segments`, as every upstream receives it. */
  path: string
  /** The query as received, without `?` ('' when none); validated, forwarded verbatim. */
  rawQuery: string
  /** The query decoded (`+` is a space), one value per name. */
  query: Readonly<Record<string, string>>
}

/**
 * Network Link targets are a few hundred characters at most; a longer one only
 * makes every signature scheme (base58 above all) spend more before it can
 * refuse a forgery.
 */
export const MAX_TARGET = 4096

/** RFC 3986 unreserved characters: escaping one of them only makes a second spelling. */
const UNRESERVED = /[A-Za-z0-9\-._~]/
/** What may appear literally in a path segment: pchar without `;`, and `%` (checked separately). */
const PATH_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,=:@%]*$/
/** Visible ASCII, without `#`: what may appear literally in a query. */
const QUERY_CHAR = /^[\x21\x22\x24-\x7e]*$/

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) return true
  }
  return false
}

// ignoreBOM: a leading U+FEFF is data, not a byte-order mark to drop (else `%EF%BB%BFacc-2` would name acc-2).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function refuse(message: string, requestPart: 'params' | 'querystring' = 'params', propertyName?: string): GatewayError {
  return new GatewayError(ERRORS.nonCanonicalTarget, { message, requestPart, ...(propertyName ? { propertyName } : {}) })
}

/**
 * Decodes percent-escapes strictly: each `%` takes two hex digits and the bytes
 * must be UTF-8. `path` refuses escapes of unreserved characters, `/` and `\`;
 * `plus` decodes `+` as a space (form encoding, in queries).
 */
function decode(text: string, { path, plus }: { path: boolean; plus: boolean }): string {
  const part = path ? 'params' : 'querystring'
  if (!text.includes('%') && !(plus && text.includes('+'))) return text
  const bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x25 /* % */) {
      const hex = text.slice(i + 1, i + 3)
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw refuse('Request target has a malformed percent-escape', part)
      const byte = parseInt(hex, 16)
      if (path && (UNRESERVED.test(String.fromCharCode(byte)) || byte === 0x2f || byte === 0x5c)) {
        throw refuse(`Path must not percent-encode "${String.fromCharCode(byte)}"`)
      }
      bytes.push(byte)
      i += 2
    } else bytes.push(plus && c === 0x2b ? 0x20 : c)
  }
  try {
    return utf8.decode(Uint8Array.from(bytes))
  } catch {
    throw refuse('Request target percent-encodes bytes that are not UTF-8', part)
  }
}

/** A decoded segment as every upstream receives it: the one canonical spelling. */
export function encodeSegment(segment: string): string {
  return encodeURIComponent(segment)
}

function parseQuery(raw: string): Record<string, string> {
  const query: Record<string, string> = Object.create(null) as Record<string, string>
  if (raw === '') return query
  if (!QUERY_CHAR.test(raw)) throw refuse('Query must be visible ASCII, percent-encoded', 'querystring')
  for (const pair of raw.split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const name = decode(eq === -1 ? pair : pair.slice(0, eq), { path: false, plus: true })
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1), { path: false, plus: true })
    if (hasControl(name) || hasControl(value)) throw refuse('Query must not hold control characters', 'querystring')
    if (name in query) throw refuse(`Query parameter "${name}" is given more than once`, 'querystring', `/${name}`)
    query[name] = value
  }
  return query
}

/**
 * Parses a request target as received (`request.url`). `basePath` (e.g. `/v2`,
 * or '' for none) must be followed by `/`, `?` or the end. Throws the Network
 * Link 400 for a target that is not canonical, the 400 for dot segments, and
 * the 404 for a target outside the base path.
 */
export function parseTarget(raw: string, basePath: string): RequestTarget {
  if (raw.length > MAX_TARGET) throw new GatewayError(ERRORS.targetTooLong)
  if (raw.charCodeAt(0) !== 0x2f /* / */ || raw.charCodeAt(1) === 0x2f) {
    throw refuse('Only origin-form request targets (/path?query) are accepted')
  }
  const q = raw.indexOf('?')
  const rawPath = q === -1 ? raw : raw.slice(0, q)
  const rawQuery = q === -1 ? '' : raw.slice(q + 1)
  if (!rawPath.startsWith(basePath) || (rawPath.length > basePath.length && rawPath.charCodeAt(basePath.length) !== 0x2f)) {
    throw new GatewayError(ERRORS.routeNotFound)
  }
  const rest = rawPath.slice(basePath.length)
  const segments: string[] = []
  if (rest !== '' && rest !== '/') {
    for (const part of rest.slice(1).split('/')) {
      if (part === '.' || part === '..') throw new GatewayError(ERRORS.dotSegment)
      if (part === '') throw refuse('Path must not contain empty segments')
      if (!PATH_CHAR.test(part)) throw refuse('Path holds a character that must be percent-encoded')
      const segment = decode(part, { path: true, plus: false })
      if (hasControl(segment)) throw refuse('Path must not hold control characters')
      segments.push(segment)
    }
  }
  return {
    endpoint: raw.slice(basePath.length),
    segments,
    path: '/' + segments.map(encodeSegment).join('/'),
    rawQuery,
    query: parseQuery(rawQuery),
  }
}
