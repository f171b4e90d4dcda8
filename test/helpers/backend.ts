import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'

export interface RecordedRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
}

export type Responder = (req: RecordedRequest) => { status?: number; headers?: Record<string, string>; body?: unknown; delayMs?: number }

/** A real HTTP backend on loopback that records every request it receives. */
export class Backend {
  readonly requests: RecordedRequest[] = []
  respond: Responder = () => ({ status: 200, body: { ok: true } })

  private readonly server: Server

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) }
        this.requests.push(recorded)
        const { status = 200, headers = {}, body, delayMs = 0 } = this.respond(recorded)
        setTimeout(() => {
          if (res.destroyed) return
          const payload = body === undefined ? '' : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body)
          res.writeHead(status, { 'content-type': 'application/json', ...headers })
          res.end(payload)
        }, delayMs)
      })
    })
  }

  static async start(respond?: Responder): Promise<Backend> {
    const backend = new Backend()
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
    return `http://127.0.0.1:${port}`
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}
