import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { ERRORS, GatewayError } from '../errors.js'
import { forwardableHeaders, isSignatureHeader } from '../http.js'
import { parseTarget } from '../request/target.js'
import { HTTP_METHODS, type RouteTable, type RouteTemplate } from '../route-table.js'

/**
 * What the Exchange → Fireblocks signing proxy lets through, decided before
 * anything is signed: the backend proves itself with the bearer token (when
 * one is configured); the method is one Fireblocks' API uses (no TRACE,
 * CONNECT, OPTIONS or HEAD); the target is canonical (origin-form, no
 * encoded slash, backslash or dot segment: what is matched is what
 * Fireblocks resolves); and the allow-list names the endpoint. Deny by
 * default: an empty allow-list forwards nothing.
 */
export interface OutboundRequest {
  /** The allow-list entry that admitted it: labels metrics. */
  template: RouteTemplate
  /** Path (re-encoded from its decoded segments) and query as received: what is forwarded and signed. */
  target: string
}

export interface OutboundPolicy {
  admit(method: string, url: string, headers: IncomingHttpHeaders): OutboundRequest
  /** The backend's headers that travel on to Fireblocks. */
  headers(incoming: IncomingHttpHeaders): Record<string, string>
}

const METHODS = new Set<string>(HTTP_METHODS)
const digest = (text: string) => createHash('sha256').update(text).digest()

/** `Authorization: Bearer <token>`, compared in constant time (digests, so lengths do not leak either). */
function bearerCheck(token: string | undefined): (header: string | undefined) => boolean {
  if (token === undefined) return () => true
  const expected = digest(token)
  return (header) => {
    const presented = /^Bearer (.+)$/i.exec(header ?? '')?.[1]
    return timingSafeEqual(digest(presented ?? ''), expected) && presented !== undefined
  }
}

export function outboundPolicy({ allow, token }: { allow: RouteTable; token?: string }): OutboundPolicy {
  const authorized = bearerCheck(token)
  return {
    admit(method, url, headers) {
      if (!authorized(headers.authorization)) throw new GatewayError(ERRORS.outboundUnauthorized)
      if (!METHODS.has(method)) throw new GatewayError(ERRORS.outboundMethod, { message: `${method} is not forwarded to Fireblocks` })
      const target = parseTarget(url, '')
      const match = allow.match(method, target.segments)
      if (!match) throw new GatewayError(ERRORS.outboundNotAllowed, { message: `${method} ${target.path} is not in the outbound allow-list` })
      return { template: match.template, target: `${target.path}${target.rawQuery ? `?${target.rawQuery}` : ''}` }
    },
    // The gateway's own credential replaces any X-FBAPI header; the token is for the gateway only.
    headers: (incoming) => forwardableHeaders(incoming, (name) => isSignatureHeader(name) || name === 'authorization'),
  }
}
