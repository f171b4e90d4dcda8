import type { Dispatcher } from 'undici'
import { isTimeout } from './http.js'
import { ReloadablePool, type ClientTls } from './tls.js'

/**
 * The legacy backend: one fixed origin from config, reached through a pool of
 * keep-alive connections. Request values only ever fill in the path, query,
 * headers and body; nothing a client sends can change where a request goes.
 */
export interface UpstreamRequest {
  method: string
  /** Path and query, already encoded. */
  path: string
  headers: Record<string, string>
  body?: Buffer | string | undefined
  timeoutMs: number
  /** The mapping call it is made for (its `name`), for clients that answer by call, such as `nlgw test-mapping`. */
  call?: string
}

export interface UpstreamResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** What a route needs of the backend: the pooled client in the gateway, recorded answers in `nlgw test-mapping`. */
export interface UpstreamClient {
  request(request: UpstreamRequest): Promise<UpstreamResponse>
}

export class UpstreamError extends Error {
  /** The status the backend had answered before the exchange failed (0: none): a success status means it acted, whatever became of its body. */
  readonly status: number

  constructor(
    readonly kind: 'timeout' | 'unavailable' | 'too-large',
    message: string,
    options: { cause?: unknown; status?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'UpstreamError'
    this.status = options.status ?? 0
  }
}

export interface UpstreamOptions {
  url: string
  connections: number
  connectTimeoutMs: number
  /** For an https:// backend: a private CA, a client certificate (mutual TLS). */
  tls?: ClientTls | undefined
  maxResponseBytes?: number
}

export class Upstream implements UpstreamClient {
  /** The keep-alive pool; passthrough streams through it too (@fastify/reply-from). */
  readonly pool: ReloadablePool
  private readonly maxResponseBytes: number

  constructor({ url, connections, connectTimeoutMs, tls, maxResponseBytes = 16 << 20 }: UpstreamOptions) {
    this.pool = new ReloadablePool(url, { connections, connectTimeoutMs }, tls)
    this.maxResponseBytes = maxResponseBytes
  }

  /** A reload's certificates: every request from now on uses them (ReloadablePool). */
  setTls(tls: ClientTls | undefined): void {
    this.pool.update(tls)
  }

  async request({ method, path, headers, body, timeoutMs }: UpstreamRequest): Promise<UpstreamResponse> {
    const exchange = new Exchange(this.maxResponseBytes)
    // One deadline for the whole exchange, queueing for a busy pool included; undici's own
    // header/body timeouts tick too coarsely for sub-second limits.
    const timer = setTimeout(() => exchange.expire(new DOMException('upstream deadline', 'TimeoutError')), timeoutMs)
    try {
      this.pool.dispatch({ method: method as 'GET', path, headers, body: body ?? null }, exchange)
      return await exchange.answer
    } catch (err) {
      const exchanged = { status: exchange.received }
      if (err instanceof UpstreamError) throw new UpstreamError(err.kind, err.message, { ...exchanged, cause: err.cause })
      if (isTimeout(err)) {
        throw new UpstreamError('timeout', `upstream ${method} ${path} timed out after ${timeoutMs} ms`, { ...exchanged, cause: err })
      }
      throw new UpstreamError('unavailable', `upstream ${method} ${path} failed: ${(err as { code?: string }).code || (err as Error).message}`, { ...exchanged, cause: err })
    } finally {
      clearTimeout(timer)
    }
  }

  close(): Promise<void> {
    return this.pool.close()
  }
}

/**
 * One backend exchange read whole into memory, as undici's dispatch handler:
 * no response stream, async iterator or AbortController per request (with
 * `pool.request` and `for await` they cost 10 µs of a 250 µs request at load;
 * bench/RESULTS.md). A deadline that passes while the request still waits for
 * a connection settles it at once, and the request is dropped unsent when a
 * connection takes it.
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly answer: Promise<UpstreamResponse>
  private resolve!: (response: UpstreamResponse) => void
  private reject!: (reason: unknown) => void
  private controller: Dispatcher.DispatchController | undefined
  private expired: unknown
  private settled = false
  /** The status line's code once it has arrived (0 before). */
  received = 0
  private headers: Record<string, string | string[] | undefined> = {}
  private readonly chunks: Buffer[] = []
  private size = 0

  constructor(private readonly maxBytes: number) {
    this.answer = new Promise((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
  }

  expire(reason: unknown): void {
    if (this.settled) return
    this.expired = reason
    this.controller?.abort(reason as Error)
    this.fail(reason)
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller
    if (this.expired !== undefined) controller.abort(this.expired as Error)
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.received = statusCode
    this.headers = headers
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.size += chunk.length
    if (this.size > this.maxBytes) controller.abort(new UpstreamError('too-large', `upstream response over ${this.maxBytes} bytes`))
    else this.chunks.push(chunk)
  }

  onResponseEnd(): void {
    if (this.settled) return
    this.settled = true
    this.resolve({ status: this.received, headers: this.headers, body: this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.size) })
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(err)
  }

  private fail(reason: unknown): void {
    if (this.settled) return
    this.settled = true
    this.reject(reason)
  }
}
