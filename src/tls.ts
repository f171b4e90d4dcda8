import { X509Certificate } from 'node:crypto'
import type { ConnectionOptions, PeerCertificate, TlsOptions, TLSSocket } from 'node:tls'
import { buildConnector, Dispatcher, Pool } from 'undici'

/**
 * TLS for the gateway's listeners and for its calls to the backend and to
 * Fireblocks. Certificates and keys are PEM text read by the config loader;
 * the live objects (secure contexts, connectors) are made here, so that a
 * reload can swap them without touching a connection already open.
 */

/** TLS 1.0 and 1.1 are deprecated (RFC 8996); said explicitly so a `--tls-min-v1.0` flag cannot lower it. */
export const MIN_TLS_VERSION = 'TLSv1.2'

export interface ListenerTls {
  cert: string
  key: string
  /** The CA client certificates must chain to (mutual TLS). */
  ca?: string
  /** Refuse a connection without a client certificate signed by `ca`. */
  requestClientCert: boolean
}

export interface ClientTls {
  /** A private CA to trust (instead of the public ones). */
  ca?: string
  /** A client certificate and its key, for a server that requires mutual TLS. */
  cert?: string
  key?: string
}

/** The secure context of a listener: what `server.setSecureContext` replaces on reload. */
export function secureContextOptions(tls: ListenerTls): TlsOptions {
  return { cert: tls.cert, key: tls.key, ...(tls.ca !== undefined ? { ca: tls.ca } : {}), minVersion: MIN_TLS_VERSION }
}

/** A listener's TLS options: its secure context and, for mutual TLS, a verified client certificate required. */
export function listenerTlsOptions(tls: ListenerTls): TlsOptions {
  // A handshake gets 10 s, not Node's 120: a connection waiting mid-handshake holds a socket for nothing.
  return { ...secureContextOptions(tls), requestCert: tls.requestClientCert, rejectUnauthorized: tls.requestClientCert, handshakeTimeout: 10_000 }
}

export function clientTlsOptions(tls: ClientTls | undefined): ConnectionOptions {
  return { minVersion: MIN_TLS_VERSION, ...(tls?.ca !== undefined ? { ca: tls.ca } : {}), ...(tls?.cert !== undefined ? { cert: tls.cert } : {}), ...(tls?.key !== undefined ? { key: tls.key } : {}) }
}

/**
 * A keep-alive pool to one origin whose TLS a reload can replace. When the CA,
 * the client certificate or its key change, every request from then on goes
 * over a new pool with them, and the old pool closes once the requests it is
 * carrying are answered (none is cut off half-way: the backend may have acted
 * on it). Keeping the old connections would go on trusting a CA the operator
 * just removed, or presenting a certificate just revoked, for as long as they
 * stayed busy. A reload that leaves TLS as it was keeps the pool.
 */
export class ReloadablePool extends Dispatcher {
  private current: Pool
  private tls: ClientTls | undefined

  constructor(
    private readonly origin: string,
    private readonly options: { connections?: number; connectTimeoutMs: number },
    tls: ClientTls | undefined,
  ) {
    super()
    this.tls = tls
    this.current = this.build(tls)
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.current.dispatch(options, handler)
  }

  /** Applies a reload's TLS: when it changed, the connections are replaced. */
  update(tls: ClientTls | undefined): void {
    if (sameClientTls(this.tls, tls)) return
    const retired = this.current
    this.tls = tls
    this.current = this.build(tls)
    void retired.close()
  }

  override close(): Promise<void>
  override close(callback: () => void): void
  override close(callback?: () => void): Promise<void> | void {
    const closed = this.current.close()
    if (!callback) return closed
    void closed.then(callback)
  }

  override destroy(): Promise<void>
  override destroy(err: Error | null): Promise<void>
  override destroy(callback: () => void): void
  override destroy(err: Error | null, callback: () => void): void
  override destroy(errOrCallback?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    const err = typeof errOrCallback === 'function' ? null : (errOrCallback ?? null)
    const done = typeof errOrCallback === 'function' ? errOrCallback : callback
    const destroyed = this.current.destroy(err)
    if (!done) return destroyed
    void destroyed.then(done)
  }

  private build(tls: ClientTls | undefined): Pool {
    const connect = buildConnector({ timeout: this.options.connectTimeoutMs, ...clientTlsOptions(tls) } as buildConnector.BuildOptions)
    return new Pool(this.origin, { ...(this.options.connections !== undefined ? { connections: this.options.connections } : {}), connect, keepAliveTimeout: 30_000 })
  }
}

function sameClientTls(a: ClientTls | undefined, b: ClientTls | undefined): boolean {
  return a?.ca === b?.ca && a?.cert === b?.cert && a?.key === b?.key
}

/** A client certificate's subject, as Node reads it (`CN`, `O`, … → value, or values when repeated). */
export type CertificateSubject = Readonly<Record<string, string | string[] | undefined>>

/**
 * Every attribute the credential names is on the presented certificate's
 * subject once, with that value. A repeated attribute (`CN=a+CN=b`, or two
 * CN RDNs) never matches: which of its values names the holder is the CA's
 * reading, not ours.
 */
export function subjectMatches(required: Readonly<Record<string, string>>, presented: CertificateSubject | undefined): boolean {
  if (!presented) return false
  return Object.entries(required).every(([attribute, value]) => presented[attribute] === value)
}

/**
 * `getPeerCertificate()` builds a new object on every call (30 µs measured),
 * and a connection's certificate never changes (renegotiation is refused:
 * `ListenerConnections`), so the subject is read once per connection.
 */
const subjects = new WeakMap<object, CertificateSubject | undefined>()

/** The subject of a verified client certificate, or undefined on a plain or unverified connection. */
export function verifiedSubject(socket: { authorized?: boolean; getPeerCertificate?: () => PeerCertificate }): CertificateSubject | undefined {
  if (socket.authorized !== true || !socket.getPeerCertificate) return undefined
  if (!subjects.has(socket)) subjects.set(socket, socket.getPeerCertificate().subject as CertificateSubject | undefined)
  return subjects.get(socket)
}

/**
 * A TLS listener's connections. TLS 1.2 renegotiation is refused: it would
 * let a client present another certificate on an open connection (TLS 1.3
 * has none). When a reload replaces the CA that client certificates must
 * chain to (a compromised issuer removed, say), every connection accepted
 * before it is retired, for Node binds a connection to the secure context of
 * the moment it was accepted: one still in its handshake would be verified
 * by the old CA. A retired connection is closed at once when idle or when it
 * finishes its handshake, its requests that arrive from then on are refused,
 * and the answer in progress ends it. A new server certificate alone, or the
 * same CA certificates spelt differently, retires nothing.
 */
export class ListenerConnections {
  /** Bumped by each change of client CA; a connection keeps the one current when it was accepted. */
  private generation = 0
  private readonly acceptedIn = new Map<string, number>()
  private readonly generations = new WeakMap<object, number>()

  constructor(private readonly server: ListenerServer) {
    // The raw socket and the TLS socket wrapping it share their remote address and port.
    server.on('connection', (raw) => {
      const id = peerId(raw)
      this.acceptedIn.set(id, this.generation)
      raw.once('close', () => this.acceptedIn.delete(id))
    })
    server.on('secureConnection', (socket) => {
      socket.disableRenegotiation()
      const generation = this.acceptedIn.get(peerId(socket)) ?? this.generation
      this.generations.set(socket, generation)
      if (generation < this.generation) socket.destroy()
    })
  }

  /** After a reload from `before` to `after`: retires every connection accepted so far when the client CA changed. */
  renewed(before: ListenerTls | undefined, after: ListenerTls | undefined): void {
    if (sameCertificates(before?.ca, after?.ca)) return
    this.generation++
    this.server.closeIdleConnections()
  }

  isRetired(socket: object): boolean {
    return (this.generations.get(socket) ?? this.generation) < this.generation
  }
}

interface ListenerServer {
  on(event: 'connection', listener: (socket: { remoteAddress?: string; remotePort?: number; once(event: 'close', listener: () => void): unknown }) => void): unknown
  on(event: 'secureConnection', listener: (socket: TLSSocket) => void): unknown
  closeIdleConnections(): void
}

const peerId = (socket: { remoteAddress?: string; remotePort?: number }) => `${socket.remoteAddress}|${socket.remotePort}`

/**
 * The same certificates, whatever the PEM's whitespace, order or comments.
 * Anything else in it (a TRUSTED CERTIFICATE, which OpenSSL also takes as a
 * CA) counts as a change: when unsure, retire.
 */
function sameCertificates(a: string | undefined, b: string | undefined): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined) return false
  const prints = (pem: string) => {
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []
    if (blocks.length === 0 || blocks.length !== (pem.match(/-----BEGIN /g) ?? []).length) return undefined
    return blocks.map((block) => new X509Certificate(block).fingerprint256).sort().join()
  }
  const [before, after] = [prints(a), prints(b)]
  return before !== undefined && before === after
}
