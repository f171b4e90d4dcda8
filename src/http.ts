import type { IncomingHttpHeaders } from 'node:http'

/**
 * What the two proxies (Network Link → backend passthrough, backend →
 * Fireblocks outbound) must agree on: which headers cross, and what counts
 * as a timeout. Paths are the canonical target's business (request/target).
 */

/**
 * Connection-scoped headers (RFC 9110 §7.6.1), those the HTTP client
 * recomputes, and `expect` (the gateway has already answered 100-continue;
 * undici refuses to send it): never relayed, nor any header `Connection` names.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length', 'expect'])

/** Whether a header belongs to one connection (the HTTP client sets it): never relayed, never set by a mapping. */
export function isConnectionHeader(name: string): boolean {
  return HOP_BY_HOP.has(name)
}

/** The Network Link authentication headers: they prove a request to the gateway, not to whoever is behind it. */
export function isSignatureHeader(name: string): boolean {
  return name.startsWith('x-fbapi-') || name.startsWith('x-fb-platform-')
}

/** The header names a `Connection` header lists: connection-scoped too (RFC 9110 §7.6.1). */
function connectionScoped(headers: Record<string, unknown>): Set<string> {
  const value = headers.connection
  const list = Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : ''
  return new Set(list.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean))
}

function endToEnd<V>(headers: Record<string, V | undefined>, keep: (name: string) => boolean): Array<[string, V]> {
  const scoped = connectionScoped(headers)
  const out: Array<[string, V]> = []
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !scoped.has(name) && keep(name)) out.push([name, value])
  }
  return out
}

const single = (value: string | string[]) => (Array.isArray(value) ? value.join(', ') : value)

/** A request's end-to-end headers as single strings, without those `drop` names. */
export function forwardableHeaders(headers: IncomingHttpHeaders, drop: (name: string) => boolean): Record<string, string> {
  return Object.fromEntries(endToEnd(headers, (name) => !drop(name)).map(([name, value]) => [name, single(value)]))
}

/** A response's end-to-end headers, to relay as they came. */
export function relayableHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  return Object.fromEntries(endToEnd(headers, () => true))
}

/** undici's connect timeout, or a deadline signal that fired. */
export function isTimeout(err: unknown): boolean {
  return (err as Error).name === 'TimeoutError' || (err as { code?: string }).code === 'UND_ERR_CONNECT_TIMEOUT'
}
