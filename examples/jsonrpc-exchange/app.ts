import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CODES, METHODS, RpcError } from './methods.js'
import { seed } from './state.js'

/** Which client calls: the gateway sets it (upstream.subjectHeader) from the API key. */
export const CLIENT_HEADER = 'x-rpc-client'

export interface JsonRpcExchange {
  /** Listens and resolves to its base URL, as Fastify's listen does. */
  listen(options: { host: string; port: number }): Promise<string>
  close(): Promise<void>
}

/**
 * A second example backend, in another style than the demo legacy exchange:
 * JSON-RPC 2.0 over HTTP. Every call is `POST /rpc`; every answer, errors
 * included, is an HTTP 200 whose body holds `result` or `error`. No framework:
 * one endpoint needs none.
 */
export interface JsonRpcExchangeOptions {
  /** Sees every call made, with the client making it: a log, or a test counting calls. */
  onCall?: (call: { client: unknown; method: unknown; params: unknown }) => void
}

export function buildJsonRpcExchange(options: JsonRpcExchangeOptions = {}): JsonRpcExchange {
  const clients = seed()
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/rpc') return reply(res, 404, { error: 'POST /rpc is the only endpoint' })
    readBody(req).then(
      (text) => {
        const answer = handle(text, req.headers[CLIENT_HEADER])
        if (answer === undefined) return reply(res, 204)
        reply(res, 200, answer)
      },
      () => res.destroy(),
    )
  })
  function handle(text: string, clientId: unknown): unknown {
    let call: Record<string, unknown>
    try {
      call = JSON.parse(text) as Record<string, unknown>
    } catch {
      return failure(null, new RpcError(CODES.parseError, 'Parse error'))
    }
    const id = call?.id ?? null
    options.onCall?.({ client: clientId, method: call?.method, params: call?.params })
    if (call === null || typeof call !== 'object' || Array.isArray(call)) return failure(null, new RpcError(CODES.invalidRequest, 'Invalid Request: one call object per request (batches are not supported)'))
    if (call.jsonrpc !== '2.0' || typeof call.method !== 'string') return failure(id, new RpcError(CODES.invalidRequest, 'Invalid Request'))
    try {
      const method = METHODS[call.method]
      if (!method) throw new RpcError(CODES.methodNotFound, `Method not found: ${call.method}`)
      const client = typeof clientId === 'string' ? clients.get(clientId) : undefined
      if (!client) throw new RpcError(CODES.unauthenticated, `missing or unknown ${CLIENT_HEADER}`)
      const params = call.params ?? {}
      if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new RpcError(CODES.invalidParams, 'params must be an object')
      const result = method(client, params as Record<string, unknown>)
      // A notification (no id) gets no answer.
      return 'id' in call ? { jsonrpc: '2.0', result, id } : undefined
    } catch (err) {
      // A notification gets no answer, not even an error (JSON-RPC 2.0, section 4.1).
      return 'id' in call ? failure(id, err instanceof RpcError ? err : new RpcError(CODES.internalError, 'Internal error')) : undefined
    }
  }
  return {
    listen: ({ host, port }) =>
      new Promise((resolve) => server.listen(port, host, () => resolve(`http://${host}:${(server.address() as AddressInfo).port}`))),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function failure(id: unknown, err: RpcError) {
  return { jsonrpc: '2.0', error: { code: err.code, message: err.message, ...(err.data !== undefined ? { data: err.data } : {}) }, id }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** JSON with BigInt amounts written as plain integers, every digit kept. */
function reply(res: ServerResponse, status: number, body?: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body, (_key, value: unknown) => (typeof value === 'bigint' ? `\u0000${value}\u0000` : value)).replace(/"\\u0000(-?\d+)\\u0000"/g, '$1')
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
