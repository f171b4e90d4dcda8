import t from 'tap'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { connect } from 'node:net'
import { errors, request } from 'undici'
import { forwardableHeaders, isConnectionHeader, isSignatureHeader, isTimeout, relayableHeaders } from '../src/http.js'
import { until } from './helpers/poll.js'

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length', 'expect']
const keepAll = () => false

t.test('isConnectionHeader: the connection-scoped headers, expect, and nothing else', async (t) => {
  for (const name of HOP_BY_HOP) t.ok(isConnectionHeader(name), name)
  for (const name of ['content-type', 'accept', 'authorization', 'cookie', 'x-request-id', 'x-fbapi-key', 'date', 'connections', 'hostname']) t.notOk(isConnectionHeader(name), name)
})

t.test('isSignatureHeader: X-FBAPI-* and X-FB-PLATFORM-*', async (t) => {
  for (const name of ['x-fbapi-key', 'x-fbapi-signature', 'x-fb-platform-signature']) t.ok(isSignatureHeader(name), name)
  for (const name of ['x-fb', 'x-fbapi', 'x-fbplatform-signature', 'authorization']) t.notOk(isSignatureHeader(name), name)
})

t.test('forwardableHeaders drops hop-by-hop headers and expect, keeps end-to-end ones', async (t) => {
  const headers: IncomingHttpHeaders = Object.fromEntries(HOP_BY_HOP.map((name) => [name, 'v']))
  Object.assign(headers, { 'content-type': 'application/json', accept: '*/*', 'x-request-id': 'r-1', connection: 'keep-alive' })
  t.same(forwardableHeaders(headers, keepAll), { 'content-type': 'application/json', accept: '*/*', 'x-request-id': 'r-1' })
})

t.test('forwardableHeaders drops the headers Connection names: a comma list, any case, several Connection values', async (t) => {
  const headers: IncomingHttpHeaders = { connection: ' X-Trace ,keep-alive,,  X-SECRET-hop\t', 'x-trace': 't', 'x-secret-hop': 's', 'x-kept': 'k' }
  t.same(forwardableHeaders(headers, keepAll), { 'x-kept': 'k' }, 'names trimmed and lower-cased')
  const several = { connection: ['x-one', 'X-Two, x-three'], 'x-one': '1', 'x-two': '2', 'x-three': '3', 'x-four': '4' } as unknown as IncomingHttpHeaders
  t.same(forwardableHeaders(several, keepAll), { 'x-four': '4' }, 'every Connection value counts')
  t.same(forwardableHeaders({ connection: '', 'x-a': 'a' }, keepAll), { 'x-a': 'a' }, 'an empty Connection header names nothing')
  t.same(forwardableHeaders({ connection: 'content-type', 'content-type': 'text/plain', accept: 'a' }, keepAll), { accept: 'a' }, 'even an ordinary header, once Connection names it')
})

t.test('forwardableHeaders drops what drop says and joins array values', async (t) => {
  const headers: IncomingHttpHeaders = { 'x-fbapi-key': 'k', 'x-fbapi-signature': 's', authorization: 'Bearer t', 'x-forwarded-for': ['1.1.1.1', '2.2.2.2'], 'x-empty': [], accept: 'a', 'x-undef': undefined }
  const dropped: string[] = []
  const out = forwardableHeaders(headers, (name) => {
    dropped.push(name)
    return isSignatureHeader(name) || name === 'authorization'
  })
  t.same(out, { 'x-forwarded-for': '1.1.1.1, 2.2.2.2', 'x-empty': '', accept: 'a' }, 'dropped and undefined headers are left out; arrays joined with ", "')
  t.notOk(dropped.includes('x-undef'), 'drop is not asked about an absent value')
  t.same(forwardableHeaders({ 'set-cookie': ['a=1', 'b=2'] }, keepAll), { 'set-cookie': 'a=1, b=2' })
  t.same(forwardableHeaders({}, keepAll), {})
})

t.test('relayableHeaders: the same rules for a response, array values kept as they are', async (t) => {
  const headers = {
    connection: 'x-hop, Keep-Alive',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
    'content-length': '10',
    'x-hop': 'h',
    'content-type': 'application/json',
    'set-cookie': ['a=1', 'b=2'],
    'x-missing': undefined,
  }
  t.same(relayableHeaders(headers), { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] })
  t.same(relayableHeaders({ connection: ['x-a', 'x-b'], 'x-a': '1', 'x-b': '2', 'x-c': '3' }), { 'x-c': '3' }, 'several Connection values')
})

t.test('the headers of a real request and response, as node and undici deliver them', async (t) => {
  let received: IncomingHttpHeaders = {}
  const server = createServer((req, res) => {
    received = req.headers
    res.writeHead(200, { connection: 'x-hop-res', 'x-hop-res': 'h', 'x-end': 'e', 'set-cookie': ['a=1', 'b=2'] })
    res.end('{}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const { port } = server.address() as { port: number }
  // A raw request: duplicate Connection headers and names in mixed case, as a client may send them.
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(['POST /x HTTP/1.1', 'Host: gw', 'Connection: X-Hop-A', 'Connection: x-hop-b, keep-alive', 'X-Hop-A: a', 'X-HOP-B: b', 'X-End: e', 'TE: trailers', 'Content-Length: 2', '', '{}'].join('\r\n'))
    })
    let text = ''
    socket.on('data', (d) => {
      text += d
      if (text.endsWith('0\r\n\r\n')) {
        socket.destroy()
        resolve(text)
      }
    })
    socket.on('error', reject)
  })
  t.match(raw, /^HTTP\/1\.1 200/)
  t.equal(received['x-hop-a'], 'a', 'node delivered the headers the client marked connection-scoped')
  t.same(forwardableHeaders(received, keepAll), { 'x-end': 'e' }, 'only the end-to-end header crosses')
  const res = await request(`http://127.0.0.1:${port}/`)
  await res.body.dump()
  t.ok(res.headers['x-hop-res'] && res.headers.connection && res.headers['transfer-encoding'], 'undici delivered the hop-by-hop headers')
  t.same(relayableHeaders(res.headers), { 'x-end': 'e', 'set-cookie': ['a=1', 'b=2'], date: res.headers.date }, 'the response headers undici delivers, without hop-by-hop ones')
})

t.test('isTimeout: a deadline signal that fired or undici\'s connect timeout; nothing else', async (t) => {
  const deadline = AbortSignal.timeout(1)
  await until(() => deadline.aborted, { what: 'the deadline' }) // its timer is unref'd: something must keep the process alive
  t.ok(isTimeout(deadline.reason), 'AbortSignal.timeout')
  t.ok(isTimeout(new DOMException('upstream deadline', 'TimeoutError')), 'a deadline the code fires itself')
  t.ok(isTimeout(new errors.ConnectTimeoutError()), 'undici connect timeout')
  const aborted = new AbortController()
  aborted.abort()
  t.notOk(isTimeout(aborted.signal.reason), 'an abort is not a timeout')
  const refused = await request('http://127.0.0.1:1/').then(
    () => undefined,
    (err: unknown) => err,
  )
  t.ok(refused, 'nothing listens on port 1')
  t.notOk(isTimeout(refused), 'a refused connection is not a timeout')
  t.notOk(isTimeout(new Error('boom')))
  t.notOk(isTimeout(Object.assign(new Error('x'), { code: 'ECONNRESET' })))
})

t.test('isTimeout on a real request whose deadline fires', async (t) => {
  const server = createServer(() => {}) // never answers
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const { port } = server.address() as { port: number }
  const err = await request(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(50) }).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(isTimeout(err), `undici rejects with the signal's TimeoutError (${(err as Error)?.name})`)
})
