import { Pool } from 'undici'
import { isTimeout } from './http.js'
import { ReloadableConnector, type ClientTls } from './tls.js'

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
  constructor(
    readonly kind: 'timeout' | 'unavailable' | 'too-large',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'UpstreamError'
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
  readonly pool: Pool
  private readonly maxResponseBytes: number
  private readonly connector: ReloadableConnector

  constructor({ url, connections, connectTimeoutMs, tls, maxResponseBytes = 16 << 20 }: UpstreamOptions) {
    this.connector = new ReloadableConnector(connectTimeoutMs, tls)
    this.pool = new Pool(url, { connections, connect: this.connector.connect, keepAliveTimeout: 30_000 })
    this.maxResponseBytes = maxResponseBytes
  }

  /** A reload's certificates: connections opened from now on use them. */
  setTls(tls: ClientTls | undefined): void {
    this.connector.update(tls)
  }

  async request({ method, path, headers, body, timeoutMs }: UpstreamRequest): Promise<UpstreamResponse> {
    // One deadline for the whole exchange; undici's own header/body timeouts tick too coarsely for
    // sub-second limits. Not AbortSignal.timeout: its timer lives out the full timeout after the
    // request is done, so under load every request left garbage for the old generation.
    const deadline = new AbortController()
    const timer = setTimeout(() => deadline.abort(new DOMException('upstream deadline', 'TimeoutError')), timeoutMs)
    try {
      // undici acts on an abort only once a queued request reaches a connection: a request
      // waiting for a busy pool would outlive its deadline, so the deadline also ends the wait.
      const res = await Promise.race([this.pool.request({ method: method as 'GET', path, headers, body, signal: deadline.signal }), expiry(deadline.signal)])
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length
        if (size > this.maxResponseBytes) {
          res.body.destroy()
          throw new UpstreamError('too-large', `upstream response over ${this.maxResponseBytes} bytes`)
        }
        chunks.push(chunk as Buffer)
      }
      return { status: res.statusCode, headers: res.headers, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) }
    } catch (err) {
      if (err instanceof UpstreamError) throw err
      if (isTimeout(err)) {
        throw new UpstreamError('timeout', `upstream ${method} ${path} timed out after ${timeoutMs} ms`, { cause: err })
      }
      throw new UpstreamError('unavailable', `upstream ${method} ${path} failed: ${(err as { code?: string }).code || (err as Error).message}`, { cause: err })
    } finally {
      clearTimeout(timer)
    }
  }

  close(): Promise<void> {
    return this.pool.close()
  }
}

/** Rejects with the signal's reason once it aborts. */
function expiry(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }))
}
