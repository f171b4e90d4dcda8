import { createServer, type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type Server } from 'node:http'
import { createServer as createTlsServer, type ServerOptions } from 'node:https'
import type { TLSSocket } from 'node:tls'

export interface RecordedRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
  /** Over HTTPS: the CN of the client certificate the gateway presented, if any. */
  clientCN?: string
}

export type Responder = (req: RecordedRequest) => { status?: number; headers?: Record<string, string>; body?: unknown; delayMs?: number }

/** A real HTTP (or, given TLS options, HTTPS) backend on loopback that records every request it receives. */
export class Backend {
  readonly requests: RecordedRequest[] = []
  respond: Responder = () => ({ status: 200, body: { ok: true } })

  private readonly server: Server

  private constructor(tls?: ServerOptions) {
    const listener: RequestListener = (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const clientCN = tls ? clientName(req) : undefined
        const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), ...(clientCN ? { clientCN } : {}) }
        this.requests.push(recorded)
        const { status = 200, headers = {}, body, delayMs = 0 } = this.respond(recorded)
        setTimeout(() => {
          if (res.destroyed) return
          const payload = body === undefined ? '' : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body)
          res.writeHead(status, { 'content-type': 'application/json', ...headers })
          res.end(payload)
        }, delayMs)
      })
    }
    this.server = tls ? createTlsServer(tls, listener) : createServer(listener)
  }

  static async start(respond?: Responder, tls?: ServerOptions): Promise<Backend> {
    const backend = new Backend(tls)
    if (respond) backend.respond = respond
    await new Promise<void>((resolve) => backend.server.listen(0, '127.0.0.1', resolve))
    return backend
  }

  /** Open connections from the gateway to this backend. */
  connections(): Promise<number> {
    return new Promise((resolve) => this.server.getConnections((_err, n) => resolve(n)))
  }

  get url(): string {
    const { port } = this.server.address() as { port: number }
    return `${'setSecureContext' in this.server ? 'https' : 'http'}://127.0.0.1:${port}`
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

function clientName(req: IncomingMessage): string | undefined {
  const cn = (req.socket as TLSSocket).getPeerCertificate().subject?.CN
  return Array.isArray(cn) ? cn.join(',') : cn
}
