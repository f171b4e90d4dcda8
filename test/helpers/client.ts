import { createHmac, randomUUID, sign as cryptoSign, type KeyObject } from 'node:crypto'
import { getGlobalDispatcher, type Dispatcher } from 'undici'
import type { Signer } from '../../src/signing/index.js'

/**
 * A Network Link client written straight from SPEC-README with node:crypto,
 * sharing no code with src/signing: it signs what the gateway must verify.
 * Only the HMAC/base64 and RSA/ECDSA/base64 paths are needed here; the full
 * scheme matrix is proven against Python and openssl in test/signing.
 */
export type ClientKey = { hmac: string; hash: 'sha256' | 'sha512' | 'sha3-256' } | { privateKey: KeyObject | string; hash: 'sha256' | 'sha512' | 'sha3-256' }

export interface SendOptions {
  /** Sign with a scheme the minimal client above does not implement (any pre-encoding), e.g. a demo credential. */
  signer?: Signer
  method?: string
  /** The request target exactly as sent, base path included. */
  path: string
  body?: string | Buffer
  apiKey?: string
  key?: ClientKey
  timestamp?: string
  nonce?: string
  /** Override or drop (undefined) any header after signing. */
  headers?: Record<string, string | undefined>
  basePath?: string
  /** Another client than the global one: a TLS client certificate, another local address. */
  dispatcher?: Dispatcher
}

export function signature(key: ClientKey, message: Buffer): string {
  if ('hmac' in key) return createHmac(key.hash, key.hmac).update(message).digest('base64')
  return cryptoSign(key.hash, message, key.privateKey).toString('base64')
}

export async function send(baseUrl: string, options: SendOptions) {
  const method = options.method ?? 'GET'
  const timestamp = options.timestamp ?? String(Date.now())
  const nonce = options.nonce ?? randomUUID()
  const body = options.body === undefined ? Buffer.alloc(0) : Buffer.from(options.body)
  const endpoint = options.path.slice((options.basePath ?? '/v2').length)
  const message = Buffer.concat([Buffer.from(`${timestamp}${nonce}${method}${endpoint}`), body])
  const headers: Record<string, string> = {
    'x-fbapi-key': options.apiKey ?? 'test-key',
    'x-fbapi-timestamp': timestamp,
    'x-fbapi-nonce': nonce,
    'x-fbapi-signature': options.signer ? options.signer.sign(message) : options.key ? signature(options.key, message) : 'unsigned',
    ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value === undefined) delete headers[name]
    else headers[name] = value
  }
  // The dispatcher sends `path` verbatim; undici's request(url) would normalise it.
  const res = await (options.dispatcher ?? getGlobalDispatcher()).request({ origin: baseUrl, path: options.path, method: method as 'GET', headers, body: options.body === undefined ? null : body })
  const text = await res.body.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.statusCode, headers: res.headers, text, json: json as Record<string, unknown>, nonce, timestamp }
}
