import type { IncomingHttpHeaders } from 'node:http'

/**
 * What the two proxies (Network Link → backend passthrough, backend →
 * Fireblocks outbound) must agree on: which headers cross, which paths are
 * refused, and what counts as a timeout.
 */

/** Connection-scoped headers (RFC 9110 §7.6.1) and those the HTTP client recomputes: never relayed. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length'])

/** The Network Link authentication headers: they prove a request to the gateway, not to whoever is behind it. */
export function isSignatureHeader(name: string): boolean {
  return name.startsWith('x-fbapi-') || name.startsWith('x-fb-platform-')
}

/** A request's end-to-end headers as single strings, without those `drop` names. */
export function forwardableHeaders(headers: IncomingHttpHeaders, drop: (name: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || drop(name)) continue
    out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}

/** A response's end-to-end headers, to relay as they came. */
export function relayableHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value
  return out
}

/** The path of a request target, without its query. */
export function pathOf(url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

/** A `.` or `..` path segment, literal or percent-encoded. */
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?=\/|\?|$)/i

/** Whether a path (no query) holds a segment a backend could resolve upwards. */
export function hasDotSegment(path: string): boolean {
  return DOT_SEGMENT.test(path)
}

/** undici's connect timeout, or a deadline signal that fired. */
export function isTimeout(err: unknown): boolean {
  return (err as Error).name === 'TimeoutError' || (err as { code?: string }).code === 'UND_ERR_CONNECT_TIMEOUT'
}
