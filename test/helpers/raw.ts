import { createHmac, randomUUID } from 'node:crypto'
import { connect, type Socket } from 'node:net'

/**
 * HTTP/1.1 written and read by hand over a loopback socket, for what an HTTP
 * client library would not send as given: absolute-form targets, raw
 * backslashes, bodies trickled in over time, chunked bodies, Expect:
 * 100-continue. Only what the tests need: one request per connection.
 */
export interface RawAnswer {
  status: number
  headers: Record<string, string>
  body: string
  /** The body as JSON, undefined when it is not. */
  json: Record<string, unknown> | undefined
  /** Everything the server wrote, interim (100 Continue) answers included. */
  raw: string
}

/** Parses the last final answer in what a server wrote (interim 1xx answers are skipped). */
export function parseAnswer(raw: string): RawAnswer {
  let rest = raw
  for (;;) {
    const end = rest.indexOf('\r\n\r\n')
    if (end === -1) return { status: 0, headers: {}, body: '', json: undefined, raw }
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n')
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0)
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    let body = rest.slice(end + 4)
    if (status >= 100 && status < 200) {
      rest = body
      continue
    }
    if (headers['transfer-encoding'] === 'chunked') body = dechunk(body)
    else if (headers['content-length'] !== undefined) body = body.slice(0, Number(headers['content-length']))
    // Read as latin1 (one char per byte, for lengths); the body is UTF-8.
    body = Buffer.from(body, 'latin1').toString('utf8')
    let json: Record<string, unknown> | undefined
    try {
      json = JSON.parse(body) as Record<string, unknown>
    } catch {
      json = undefined
    }
    return { status, headers, body, json, raw }
  }
}

function dechunk(text: string): string {
  let out = ''
  let rest = text
  for (;;) {
    const eol = rest.indexOf('\r\n')
    if (eol === -1) return out
    const size = parseInt(rest.slice(0, eol), 16)
    if (!(size > 0)) return out
    out += rest.slice(eol + 2, eol + 2 + size)
    rest = rest.slice(eol + 2 + size + 2)
  }
}

/** A connection whose every byte the test decides, and whose answer it can wait for. */
export class RawConnection {
  private data = ''
  private closedFlag = false
  private readonly closed: Promise<void>
  private readonly waiters = new Set<() => void>()

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true)
    socket.on('data', (d: Buffer) => {
      this.data += d.toString('latin1')
      this.wake()
    })
    this.closed = new Promise((resolve) => {
      const done = () => {
        this.closedFlag = true
        this.wake()
        resolve()
      }
      socket.on('close', done)
      socket.on('error', done)
    })
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawConnection(socket)))
      socket.once('error', reject)
    })
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter()
  }

  get isClosed(): boolean {
    return this.closedFlag
  }

  /** What the server has written so far. */
  get received(): string {
    return this.data
  }

  write(bytes: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, (err) => (err ? reject(err) : resolve())))
  }

  /** Resolves once `predicate` holds for what was received (or the connection closed), at most `timeoutMs`. */
  waitFor(predicate: (received: string) => boolean, timeoutMs = 5000): Promise<boolean> {
    if (predicate(this.data)) return Promise.resolve(true)
    if (this.closedFlag) return Promise.resolve(false)
    return new Promise((resolve) => {
      const check = () => {
        if (predicate(this.data) || this.closedFlag) {
          clearTimeout(timer)
          this.waiters.delete(check)
          resolve(predicate(this.data))
        }
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        resolve(predicate(this.data))
      }, timeoutMs)
      this.waiters.add(check)
    })
  }

  /** The final answer, once it is complete (Content-Length reached, last chunk, or connection closed). */
  async answer(timeoutMs = 5000): Promise<RawAnswer> {
    await this.waitFor((text) => complete(text), timeoutMs)
    return parseAnswer(this.data)
  }

  async close(): Promise<void> {
    this.socket.destroy()
    await this.closed
  }
}

/** Whether a final answer has arrived in full. */
function complete(text: string): boolean {
  const answer = parseAnswer(text)
  if (answer.status === 0 || answer.status < 200) return false
  const length = answer.headers['content-length']
  if (length !== undefined) return Buffer.byteLength(answer.body) >= Number(length)
  if (answer.headers['transfer-encoding'] === 'chunked') return /(^|\r\n)0\r\n\r\n$/.test(text)
  return false
}

/** Sends bytes on a fresh connection and returns the server's answer. */
export async function rawSend(port: number, bytes: string | Buffer, timeoutMs = 5000): Promise<RawAnswer> {
  const connection = await RawConnection.open(port)
  try {
    await connection.write(bytes)
    return await connection.answer(timeoutMs)
  } finally {
    await connection.close()
  }
}

/** The X-FBAPI headers for an HMAC-SHA256/base64 credential, computed with node:crypto as SPEC-README describes. */
export function hmacHeaders(
  secret: string,
  method: string,
  endpoint: string,
  body: Buffer | string = '',
  { apiKey = 'test-key', timestamp = String(Date.now()), nonce = randomUUID() }: { apiKey?: string; timestamp?: string; nonce?: string } = {},
): Record<string, string> {
  const message = Buffer.concat([Buffer.from(`${timestamp}${nonce}${method}${endpoint}`), Buffer.from(body)])
  return {
    'X-FBAPI-KEY': apiKey,
    'X-FBAPI-TIMESTAMP': timestamp,
    'X-FBAPI-NONCE': nonce,
    'X-FBAPI-SIGNATURE': createHmac('sha256', secret).update(message).digest('base64'),
  }
}

/** A request head: request line, Host, the given headers, blank line. */
export function head(method: string, target: string, headers: Record<string, string | number>): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: gateway.test', ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)]
  return `${lines.join('\r\n')}\r\n\r\n`
}
