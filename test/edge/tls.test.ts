import t, { type Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { randomUUID, X509Certificate } from 'node:crypto'
import { connect as netConnect } from 'node:net'
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls'
import { Agent } from 'undici'
import { Backend } from '../helpers/backend.js'
import { send, signature } from '../helpers/client.js'
import { request } from 'undici'
import { hmac, startGateway, type TestGateway } from '../helpers/gateway.js'
import { until } from '../helpers/poll.js'
import { tempDir } from '../helpers/temp.js'
import { makeAuthority, type Pem } from '../helpers/tls.js'

const ca = makeAuthority('gateway-ca')
const server = ca.issue('server', 'server')
const clients = makeAuthority('clients-ca')
const fireblocks = clients.issue('fireblocks', 'client', '/O=Fireblocks/CN=fireblocks-nl')
const impostor = clients.issue('impostor', 'client', '/O=Fireblocks/CN=someone-else')
// The bound values among others: a multi-valued RDN, and the CN given twice.
const multiValued = clients.issue('multi-valued', 'client', '/O=Fireblocks+O=Elsewhere/CN=fireblocks-nl+CN=someone-else')
const twoNames = clients.issue('two-names', 'client', '/O=Fireblocks/CN=someone-else/CN=fireblocks-nl')
const stranger = makeAuthority('stranger-ca').issue('stranger', 'client', '/O=Fireblocks/CN=fireblocks-nl')

const mapping = 'routes:\n  - route: GET /capabilities\n    upstream: { get: /caps }\n    response: { version: "1", components: {} }\n'

async function tlsGateway(t: Test, requestClientCert: boolean, credentials: unknown[] = hmac.credentials, certificate: Pem = server): Promise<{ gateway: TestGateway; backend: Backend }> {
  const backend = await Backend.start()
  const gateway = await startGateway({
    config: {
      server: { host: '127.0.0.1', port: 0, basePath: '/v2', tls: { cert: certificate.certFile, key: certificate.keyFile, ca: clients.certFile, requestClientCert } },
      auth: hmac.auth,
      upstream: { url: backend.url },
      mappings: ['mappings.yaml'],
    },
    credentials,
    env: hmac.env,
    files: { 'mappings.yaml': mapping },
  })
  t.teardown(async () => {
    await gateway.close()
    await backend.close()
  })
  return { gateway, backend }
}

const agent = (options: ConnectionOptions = {}) => new Agent({ connect: { ca: ca.cert, ...options } })
const capabilities = (gateway: TestGateway, dispatcher: Agent) => send(gateway.url, { path: '/v2/capabilities', key: hmac.key, dispatcher })

/**
 * A bare TLS connection that sends one HTTP request: the negotiated protocol and the certificate
 * served once an answer comes back, or the error that ended it (TLS 1.3 reports a refused client
 * certificate only after the handshake, so success is an answer, not a handshake).
 */
function handshake(url: string, options: ConnectionOptions): Promise<{ protocol?: string | null; error?: string; certificate?: string }> {
  const { port } = new URL(url)
  return new Promise((resolve) => {
    const socket: TLSSocket = connect({ host: '127.0.0.1', port: Number(port), servername: 'localhost', ca: ca.cert, ...options })
    socket.once('secureConnect', () => socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'))
    socket.once('data', () => {
      resolve({ protocol: socket.getProtocol(), certificate: socket.getPeerX509Certificate()?.fingerprint256 })
      socket.destroy()
    })
    socket.once('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }))
    socket.once('close', () => resolve({ error: 'closed without an answer' }))
  })
}

t.test('HTTPS: a signed request over TLS 1.2 and 1.3; TLS 1.1 and plain HTTP refused', async (t) => {
  const { gateway, backend } = await tlsGateway(t, false)
  t.equal(new URL(gateway.url).protocol, 'https:')
  const res = await capabilities(gateway, agent())
  t.equal(res.status, 200, res.text)
  t.equal(backend.requests.length, 1)

  t.equal((await handshake(gateway.url, { maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2')
  t.equal((await handshake(gateway.url, {})).protocol, 'TLSv1.3')
  // OpenSSL 3 offers TLS 1.1 only at security level 0; the gateway refuses it whatever the ciphers.
  const old = await handshake(gateway.url, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })
  t.equal(old.protocol, undefined, 'no TLS 1.1 session')
  t.match(old.error, /ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION|ERR_SSL_UNSUPPORTED_PROTOCOL|ECONNRESET/, `refused: ${old.error}`)

  const plain = await send(gateway.url.replace('https:', 'http:'), { path: '/v2/capabilities', key: hmac.key }).catch((err: Error) => err)
  t.ok(plain instanceof Error, 'plain HTTP gets no answer')
  t.equal(backend.requests.length, 1, 'nothing else reached the backend')
})

t.test('mutual TLS: a certificate from the clients CA is required', async (t) => {
  const { gateway, backend } = await tlsGateway(t, true)
  const withCertificate = await capabilities(gateway, agent({ cert: fireblocks.cert, key: fireblocks.key }))
  t.equal(withCertificate.status, 200)

  for (const [what, options] of [
    ['no client certificate', {}],
    ['a certificate from another CA', { cert: stranger.cert, key: stranger.key }],
  ] as const) {
    const res = await capabilities(gateway, agent(options)).catch((err: Error & { code?: string }) => err)
    t.ok(res instanceof Error, `${what}: refused in the handshake (${(res as Error & { code?: string }).code ?? (res as Error).message})`)
    const bare = await handshake(gateway.url, options)
    t.ok(bare.error, `${what}: the handshake fails (${bare.error})`)
  }
  t.equal(backend.requests.length, 1)
})

t.test('a credential bound to a certificate subject is refused with any other certificate', async (t) => {
  const bound = [{ id: 'fb', apiKey: 'test-key', secret: { env: 'S' }, subject: 'u', tlsSubject: { CN: 'fireblocks-nl', O: 'Fireblocks' } }]
  const { gateway, backend } = await tlsGateway(t, true, bound)
  const ok = await capabilities(gateway, agent({ cert: fireblocks.cert, key: fireblocks.key }))
  t.equal(ok.status, 200)
  const other = await capabilities(gateway, agent({ cert: impostor.cert, key: impostor.key }))
  t.equal(other.status, 401)
  t.same(other.json, { message: 'API key not bound to this client certificate', errorType: 'unauthorized', propertyName: 'X-FBAPI-KEY', requestPart: 'headers' })
  for (const [name, certificate] of [['a multi-valued RDN', multiValued], ['the CN twice', twoNames]] as const) {
    t.equal((await capabilities(gateway, agent({ cert: certificate.cert, key: certificate.key }))).status, 401, `the bound values beside others (${name}): refused`)
  }
  t.equal(backend.requests.length, 1, 'the impostors reached nothing')
  // The subject is read once per connection: a TLS 1.2 client may not swap certificates on an open one.
  const { port } = new URL(gateway.url)
  const afterRenegotiation = await new Promise<string>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port), servername: 'localhost', ca: ca.cert, cert: fireblocks.cert, key: fireblocks.key, maxVersion: 'TLSv1.2' })
    let answer = ''
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')))
    socket.once('error', () => {})
    socket.once('close', () => resolve(answer.split('\r\n')[0] ?? ''))
    socket.once('secureConnect', () => socket.renegotiate({}, () => socket.end('GET /v2/capabilities HTTP/1.1\r\nHost: localhost\r\n\r\n')))
  })
  t.equal(afterRenegotiation, 'HTTP/1.1 400 Bad Request', 'refused, and the connection closed: no request runs after it')
  const metric = await gateway.metrics.registry.getSingleMetric('nlgw_auth_refusals_total')?.get()
  t.equal(metric?.values.find((v) => v.labels.reason === 'tls_subject')?.value, 3)
})

t.test('a reload serves a rotated certificate to new connections; open ones carry on', async (t) => {
  const current = ca.issue('server-current', 'server')
  const { gateway } = await tlsGateway(t, false, hmac.credentials, current)
  const kept = agent()
  t.equal((await capabilities(gateway, kept)).status, 200)
  const before = await handshake(gateway.url, {})
  t.equal(before.certificate, new X509Certificate(current.cert).fingerprint256)

  const rotated = ca.issue('server-next', 'server')
  writeFileSync(current.certFile, rotated.cert)
  writeFileSync(current.keyFile, rotated.key)
  const result = gateway.reload(gateway.env)
  t.ok(result.ok)
  t.same(result.ok && result.restartNeeded, [], 'a new certificate needs no restart')

  t.equal((await handshake(gateway.url, {})).certificate, new X509Certificate(rotated.cert).fingerprint256, 'new handshakes get the new certificate')
  t.equal((await capabilities(gateway, kept)).status, 200, 'the connection opened before the reload still serves')
})

/** A signed GET /v2/capabilities as raw bytes, for a connection driven by hand. */
function rawCapabilities(): string {
  const timestamp = String(Date.now())
  const nonce = randomUUID()
  const signed = signature(hmac.key, Buffer.from(`${timestamp}${nonce}GET/capabilities`))
  return `GET /v2/capabilities HTTP/1.1\r\nhost: localhost\r\nx-fbapi-key: test-key\r\nx-fbapi-timestamp: ${timestamp}\r\nx-fbapi-nonce: ${nonce}\r\nx-fbapi-signature: ${signed}\r\n\r\n`
}

/** A mutual-TLS gateway whose client CA is a file of its own (clients-ca.pem, beside its config), for rotating it. */
async function rotatingCaGateway(t: Test, caPem: string, mappings = mapping): Promise<{ gateway: TestGateway; backend: Backend; caFile: string }> {
  const backend = await Backend.start()
  const gateway = await startGateway({
    config: {
      server: { host: '127.0.0.1', port: 0, basePath: '/v2', tls: { cert: server.certFile, key: server.keyFile, ca: 'clients-ca.pem', requestClientCert: true } },
      auth: hmac.auth,
      upstream: { url: backend.url },
      mappings: ['mappings.yaml'],
    },
    credentials: hmac.credentials,
    env: hmac.env,
    files: { 'mappings.yaml': mappings, 'clients-ca.pem': caPem },
  })
  t.teardown(async () => {
    await gateway.close()
    await backend.close()
  })
  return { gateway, backend, caFile: join(gateway.dir, 'clients-ca.pem') }
}

t.test('a reload that replaces the clients CA retires every connection accepted before it', async (t) => {
  const withdrawals = `${mapping}  - route: POST /accounts/{accountId}/transfers/withdrawals/blockchain\n    upstream: { post: /payouts }\n    idempotency: false\n    response: { id: x }\n`
  const { gateway, backend, caFile } = await rotatingCaGateway(t, clients.cert, withdrawals)
  const port = Number(new URL(gateway.url).port)
  const idle = agent({ cert: fireblocks.cert, key: fireblocks.key })
  let idleClosed = false
  idle.on('disconnect', () => (idleClosed = true))
  t.equal((await capabilities(gateway, idle)).status, 200)

  // The same CA certificate spelt differently is no change.
  writeFileSync(caFile, `# the clients CA\n${clients.cert.replaceAll('\n', '\r\n')}`)
  t.ok(gateway.reload(gateway.env).ok)
  t.equal((await capabilities(gateway, idle)).status, 200)
  t.notOk(idleClosed, 'a respelt CA file retires nothing')

  // A busy connection: its request in progress at the backend, another pipelined behind it after the reload.
  backend.respond = () => ({ body: { ok: true }, delayMs: 400 })
  const busy = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.cert, cert: fireblocks.cert, key: fireblocks.key })
  let busyAnswers = ''
  busy.on('data', (chunk: Buffer) => (busyAnswers += chunk.toString('latin1')))
  const busyClosed = new Promise((resolve) => busy.once('close', resolve))
  await new Promise((resolve) => busy.once('secureConnect', resolve))
  busy.write(rawCapabilities())
  const before = backend.requests.length
  await until(() => backend.requests.length === before + 1, { what: 'the busy request at the backend' })
  // A TCP connection accepted now, its handshake finished after the reload: Node gives it the old CA.
  const parked = netConnect({ host: '127.0.0.1', port })
  await new Promise((resolve) => parked.once('connect', resolve))
  // A withdrawal whose headers arrive before the reload and its body after.
  const slow = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.cert, cert: fireblocks.cert, key: fireblocks.key })
  let slowAnswer = ''
  slow.on('data', (chunk: Buffer) => (slowAnswer += chunk.toString('latin1')))
  await new Promise((resolve) => slow.once('secureConnect', resolve))
  const body = '{"amount":"1"}'
  const timestamp = String(Date.now())
  const path = '/accounts/acc-1/transfers/withdrawals/blockchain'
  slow.write(`POST /v2${path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nx-fbapi-key: test-key\r\nx-fbapi-timestamp: ${timestamp}\r\nx-fbapi-nonce: slow-body\r\nx-fbapi-signature: ${signature(hmac.key, Buffer.from(`${timestamp}slow-bodyPOST${path}${body}`))}\r\n\r\n`)
  // Nothing to poll until the body is sent: give the gateway a moment to read the headers.
  const headersRead = Date.now() + 200
  await until(() => Date.now() > headersRead, { what: 'the headers read' })

  writeFileSync(caFile, makeAuthority('clients-ca-next').cert)
  t.ok(gateway.reload(gateway.env).ok)
  busy.write(rawCapabilities())
  slow.write(body)
  await until(() => /\r\n\r\n\{/.test(slowAnswer), { what: 'the withdrawal answered' })
  t.match(slowAnswer, /^HTTP\/1\.1 401 .*NLGW_RETIRED_CONNECTION|^HTTP\/1\.1 401 [^]*has since been replaced/, 'a request whose body came after the reload is refused')
  slow.destroy()
  await until(() => idleClosed, { timeoutMs: 2000, what: 'the idle connection closed' })
  await busyClosed
  const statuses = [...busyAnswers.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))
  t.same(statuses.slice(0, 1), [200], 'the request in progress is answered…')
  t.match(busyAnswers, /connection: close/i, '…and its connection ends with it')
  t.equal(backend.requests.length, before + 1, 'the request sent after the reload reached nothing')

  const late = await new Promise<string>((resolve) => {
    const socket = connect({ socket: parked, servername: 'localhost', ca: ca.cert, cert: fireblocks.cert, key: fireblocks.key })
    socket.once('secureConnect', () => socket.write(rawCapabilities()))
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1').split('\r\n')[0] as string))
    socket.once('error', (err) => resolve(err.message))
    socket.once('close', () => resolve('closed'))
  })
  t.notMatch(late, /^HTTP/, `a handshake begun before the reload and finished after it: closed, no answer (${late})`)
  t.equal(backend.requests.length, before + 1)
  t.ok((await handshake(gateway.url, { cert: fireblocks.cert, key: fireblocks.key })).error, 'a certificate of the replaced CA no longer connects')
})

t.test('a client CA file holding anything but plain certificates counts as changed: when unsure, retire', async (t) => {
  // OpenSSL takes a TRUSTED CERTIFICATE as a CA too; its fingerprint is not read here.
  const trusted = (certFile: string) => execFileSync('openssl', ['x509', '-in', certFile, '-trustout'], { encoding: 'utf8' })
  const { gateway, caFile } = await rotatingCaGateway(t, trusted(clients.certFile))
  const idle = agent({ cert: fireblocks.cert, key: fireblocks.key })
  let idleClosed = false
  idle.on('disconnect', () => (idleClosed = true))
  t.equal((await capabilities(gateway, idle)).status, 200, 'a trusted-form CA verifies clients')
  writeFileSync(caFile, trusted(makeAuthority('clients-ca-other').certFile))
  t.ok(gateway.reload(gateway.env).ok)
  await until(() => idleClosed, { timeoutMs: 2000, what: 'the idle connection retired' })
})

t.test('the backend over HTTPS: a private CA, and the gateway client certificate it requires', async (t) => {
  const backendCa = makeAuthority('backend-ca')
  const gatewayClients = makeAuthority('gateway-clients-ca')
  const identity = gatewayClients.issue('gateway', 'client')
  const tlsBackend = await Backend.start(undefined, { ...backendCa.issue('backend', 'server'), ca: gatewayClients.cert, requestCert: true, rejectUnauthorized: true })
  const start = (tls: Record<string, string>) =>
    startGateway({
      config: { auth: hmac.auth, upstream: { url: tlsBackend.url, tls, passthrough: '/nl' }, mappings: ['mappings.yaml'] },
      credentials: hmac.credentials,
      env: hmac.env,
      files: { 'mappings.yaml': mapping },
    })
  const gateway = await start({ ca: backendCa.certFile, cert: identity.certFile, key: identity.keyFile })
  const anonymous = await start({ ca: backendCa.certFile })
  t.teardown(async () => {
    await gateway.close()
    await anonymous.close()
    await tlsBackend.close()
  })
  t.match(tlsBackend.url, /^https:/)
  t.equal((await send(gateway.url, { path: '/v2/capabilities', key: hmac.key })).status, 200, 'mapped call')
  t.equal((await send(gateway.url, { path: '/v2/accounts', key: hmac.key })).status, 200, 'passthrough')
  t.same(
    tlsBackend.requests.map((r) => [r.url, r.clientCN]),
    [
      ['/caps', 'gateway'],
      ['/nl/accounts', 'gateway'],
    ],
    'both presented the gateway certificate',
  )
  const refused = await send(anonymous.url, { path: '/v2/capabilities', key: hmac.key })
  t.equal(refused.status, 502, 'without the client certificate the backend refuses the handshake')
  t.equal(refused.json.message, 'Backend unavailable')
  t.equal(tlsBackend.requests.length, 2)
})

t.test('a reload that changes the backend TLS: the next request uses it, not a pooled connection; one in flight finishes', async (t) => {
  const backendCa = makeAuthority('backend-ca')
  const gatewayClients = makeAuthority('gateway-clients-ca')
  const [first, second] = [gatewayClients.issue('gateway-first', 'client'), gatewayClients.issue('gateway-second', 'client')]
  const tlsBackend = await Backend.start((req) => ({ body: { ok: true }, delayMs: req.url === '/nl/accounts' ? 300 : 0 }), { ...backendCa.issue('backend', 'server'), ca: gatewayClients.cert, requestCert: true, rejectUnauthorized: true })
  const files = tempDir()
  const [caFile, certFile, keyFile] = ['ca.pem', 'cert.pem', 'key.pem'].map((name) => join(files, name)) as [string, string, string]
  const present = (identity: Pem, trusted = backendCa.cert) => {
    writeFileSync(caFile, trusted)
    writeFileSync(certFile, identity.cert)
    writeFileSync(keyFile, identity.key)
  }
  present(first)
  const gateway = await startGateway({
    config: { auth: hmac.auth, upstream: { url: tlsBackend.url, tls: { ca: caFile, cert: certFile, key: keyFile }, passthrough: '/nl' }, mappings: ['mappings.yaml'] },
    credentials: hmac.credentials,
    env: hmac.env,
    files: { 'mappings.yaml': mapping },
  })
  t.teardown(async () => {
    await gateway.close()
    await tlsBackend.close()
  })
  const mapped = () => send(gateway.url, { path: '/v2/capabilities', key: hmac.key })
  const lastCN = () => tlsBackend.requests.at(-1)?.clientCN

  t.equal((await mapped()).status, 200)
  t.equal(lastCN(), 'gateway-first')
  t.ok(gateway.reload(gateway.env).ok, 'a reload with the same files')
  t.equal((await mapped()).status, 200)
  t.equal(await tlsBackend.connections(), 1, 'keeps the pooled connection')

  const inFlight = send(gateway.url, { path: '/v2/accounts', key: hmac.key })
  await until(() => tlsBackend.requests.some((r) => r.url === '/nl/accounts'), { what: 'the slow request at the backend' })
  present(second)
  t.ok(gateway.reload(gateway.env).ok, 'a reload with another client certificate')
  t.equal((await mapped()).status, 200)
  t.equal(lastCN(), 'gateway-second', 'the next request presents the new certificate')
  const slow = await inFlight
  t.equal(slow.status, 200, 'the request in flight during the reload was answered')
  t.equal(tlsBackend.requests.find((r) => r.url === '/nl/accounts')?.clientCN, 'gateway-first', 'over the connection it started on')
  await until(async () => (await tlsBackend.connections()) === 1, { what: 'the old connections closed once idle' })

  present(second, makeAuthority('other-backend-ca').cert)
  t.ok(gateway.reload(gateway.env).ok, 'a reload that stops trusting the backend CA')
  const before = tlsBackend.requests.length
  const distrusted = await mapped()
  t.equal(distrusted.status, 502, 'the backend, now untrusted, is not reached over the pooled connection')
  t.equal(tlsBackend.requests.length, before)
})

t.test('outbound: a reload that changes targetTls — the next call to Fireblocks presents the new certificate', async (t) => {
  const fireblocksCa = makeAuthority('fireblocks-ca')
  const gatewayClients = makeAuthority('fb-clients-ca')
  const [first, second] = [gatewayClients.issue('outbound-first', 'client'), gatewayClients.issue('outbound-second', 'client')]
  const fireblocksApi = await Backend.start(() => ({ status: 201, body: { id: 'settlement-1' } }), { ...fireblocksCa.issue('fireblocks-api', 'server'), ca: gatewayClients.cert, requestCert: true, rejectUnauthorized: true })
  const files = tempDir()
  const [certFile, keyFile] = ['cert.pem', 'key.pem'].map((name) => join(files, name)) as [string, string]
  const present = (identity: Pem) => {
    writeFileSync(certFile, identity.cert)
    writeFileSync(keyFile, identity.key)
  }
  present(first)
  const gateway = await startGateway({
    config: {
      auth: hmac.auth,
      upstream: { url: 'http://127.0.0.1:9' },
      outbound: {
        target: `${fireblocksApi.url}/v1`,
        apiKey: 'exchange-key',
        scheme: { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' },
        key: { env: 'S' },
        allow: ['POST /collateral/settlements'],
        token: { env: 'OUTBOUND_TOKEN' },
        targetTls: { ca: fireblocksCa.certFile, cert: certFile, key: keyFile },
      },
    },
    credentials: hmac.credentials,
    env: { ...hmac.env, OUTBOUND_TOKEN: 'outbound-token-for-tests' },
  })
  await gateway.outbound?.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => {
    await gateway.close()
    await fireblocksApi.close()
  })
  const outboundUrl = `http://127.0.0.1:${(gateway.outbound?.server.address() as { port: number }).port}/collateral/settlements`
  const post = async () => (await request(outboundUrl, { method: 'POST', body: '{"idempotencyKey":"k-1"}', headers: { 'content-type': 'application/json', authorization: 'Bearer outbound-token-for-tests' } })).statusCode

  t.equal(await post(), 201)
  t.equal(fireblocksApi.requests.at(-1)?.clientCN, 'outbound-first')
  present(second)
  t.ok(gateway.reload(gateway.env).ok)
  t.equal(await post(), 201)
  t.equal(fireblocksApi.requests.at(-1)?.clientCN, 'outbound-second', 'not the pooled connection with the old certificate')
})

t.test('outbound: the backend authenticates with its certificate; Fireblocks is called over HTTPS with the gateway certificate', async (t) => {
  const fireblocksCa = makeAuthority('fireblocks-ca')
  const gatewayClients = makeAuthority('fb-clients-ca')
  const exchangeClients = makeAuthority('exchange-backends-ca')
  const backendIdentity = exchangeClients.issue('exchange-backend', 'client')
  const gatewayIdentity = gatewayClients.issue('gateway-outbound', 'client')
  const fireblocksApi = await Backend.start(() => ({ status: 201, body: { id: 'settlement-1' } }), {
    ...fireblocksCa.issue('fireblocks-api', 'server'),
    ca: gatewayClients.cert,
    requestCert: true,
    rejectUnauthorized: true,
  })
  const listener = ca.issue('outbound-listener', 'server')
  const gateway = await startGateway({
    config: {
      auth: hmac.auth,
      upstream: { url: 'http://127.0.0.1:9' },
      outbound: {
        // Off loopback without a token: the client certificate is what authenticates the backend.
        host: '0.0.0.0',
        target: `${fireblocksApi.url}/v1`,
        apiKey: 'exchange-key',
        scheme: { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' },
        key: { env: 'S' },
        allow: ['POST /collateral/settlements'],
        tls: { cert: listener.certFile, key: listener.keyFile, ca: exchangeClients.certFile, requestClientCert: true },
        targetTls: { ca: fireblocksCa.certFile, cert: gatewayIdentity.certFile, key: gatewayIdentity.keyFile },
      },
    },
    credentials: hmac.credentials,
    env: hmac.env,
  })
  await gateway.outbound?.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => {
    await gateway.close()
    await fireblocksApi.close()
  })
  const outboundUrl = `https://127.0.0.1:${(gateway.outbound?.server.address() as { port: number }).port}/collateral/settlements`
  const post = (dispatcher: Agent) => request(outboundUrl, { method: 'POST', body: '{"idempotencyKey":"k-1"}', headers: { 'content-type': 'application/json' }, dispatcher })

  const res = await post(agent({ cert: backendIdentity.cert, key: backendIdentity.key }))
  t.equal(res.statusCode, 201)
  t.same(await res.body.json(), { id: 'settlement-1' })
  t.equal(fireblocksApi.requests.length, 1)
  t.equal(fireblocksApi.requests[0]?.url, '/v1/collateral/settlements')
  t.equal(fireblocksApi.requests[0]?.clientCN, 'gateway-outbound', 'Fireblocks saw the gateway certificate')
  t.ok(fireblocksApi.requests[0]?.headers['x-fbapi-signature'], 'and a signed request')

  const anonymous = await post(agent()).catch((err: Error) => err)
  t.ok(anonymous instanceof Error, 'a backend without a certificate is refused in the handshake')
  t.equal(fireblocksApi.requests.length, 1, 'and nothing is signed for it')
})
