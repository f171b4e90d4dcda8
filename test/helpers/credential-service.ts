import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'

export interface LookupRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: string
  /** `apiKey` of the JSON body, when there is one. */
  apiKey: string | undefined
}

export interface LookupAnswer {
  status?: number
  /** JSON-encoded unless a string (sent as it is). */
  body?: unknown
}

/**
 * A real HTTP credential service on loopback, as HttpCredentialSource expects
 * one: `POST` with `{"apiKey": …}`, 200 with the record, 404 for an unknown
 * key. It records every lookup, and `hold()` keeps answers (decided when the
 * lookup arrives) back until `release()`, so tests can see lookups in flight.
 */
export class CredentialService {
  readonly requests: LookupRequest[] = []
  /** Records by API key; keys not here answer 404 unless `answer` says otherwise. */
  readonly records = new Map<string, unknown>()
  answer: (request: LookupRequest) => LookupAnswer = (request) =>
    request.apiKey !== undefined && this.records.has(request.apiKey) ? { status: 200, body: this.records.get(request.apiKey) } : { status: 404, body: { error: 'unknown key' } }

  private held: Array<() => void> | undefined
  private waiting = 0
  private readonly server: Server

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        let apiKey: string | undefined
        try {
          apiKey = (JSON.parse(body) as { apiKey?: string }).apiKey
        } catch {
          apiKey = undefined
        }
        const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, apiKey }
        this.requests.push(request)
        // Decided on arrival (the service reads its records), sent now or on release().
        const { status = 200, body: payload } = this.answer(request)
        const reply = () => {
          if (res.destroyed) return
          res.writeHead(status, { 'content-type': 'application/json' })
          res.end(payload === undefined ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload))
        }
        if (this.held) {
          this.waiting++
          this.held.push(() => {
            this.waiting--
            reply()
          })
        } else reply()
      })
    })
  }

  static async start(): Promise<CredentialService> {
    const service = new CredentialService()
    await new Promise<void>((resolve) => service.server.listen(0, '127.0.0.1', resolve))
    return service
  }

  get url(): string {
    const { port } = this.server.address() as { port: number }
    return `http://127.0.0.1:${port}/internal/credentials`
  }

  /** Lookups made for this key so far. */
  lookups(apiKey: string): number {
    return this.requests.filter((r) => r.apiKey === apiKey).length
  }

  /** Lookups received and held back, not yet answered. */
  get heldBack(): number {
    return this.waiting
  }

  /** Answers from now on wait until release(). */
  hold(): void {
    this.held ??= []
  }

  /** Answers every held lookup and stops holding. */
  release(): void {
    const held = this.held ?? []
    this.held = undefined
    for (const reply of held) reply()
  }

  close(): Promise<void> {
    this.release()
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}
