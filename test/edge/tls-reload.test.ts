import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect, type TLSSocket } from 'node:tls'
import { until } from '../helpers/poll.js'
import { startServer, writeProject } from '../helpers/process.js'
import { makeAuthority } from '../helpers/tls.js'

/** The process as users run it: certificate files replaced, then `kill -HUP`. */
const ca = makeAuthority()
const first = ca.issue('first', 'server')
const next = ca.issue('next', 'server')
const dir = writeProject(
  { server: { basePath: '/v2', tls: { cert: 'server.crt', key: 'server.key' } }, upstream: { url: 'http://127.0.0.1:9' }, logging: { level: 'warn' } },
  { 'server.crt': first.cert, 'server.key': first.key },
)
const server = await startServer(dir)
t.teardown(() => server.child.kill('SIGKILL'))
const port = Number(new URL(server.url).port)

/** One TLS connection, kept open: each `ask` sends a request on it and resolves with the status line. */
function keptConnection(): Promise<{ socket: TLSSocket; ask(): Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.cert })
    socket.once('error', reject)
    socket.once('secureConnect', () =>
      resolve({
        socket,
        ask: () =>
          new Promise((answered, failed) => {
            socket.once('data', (chunk: Buffer) => answered(chunk.toString('latin1').split('\r\n')[0] as string))
            socket.once('close', () => failed(new Error('connection closed')))
            socket.write('GET /v2/capabilities HTTP/1.1\r\nHost: localhost\r\n\r\n')
          }),
      }),
    )
  })
}

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256
const served = async () => {
  const { socket } = await keptConnection()
  const certificate = socket.getPeerX509Certificate()?.fingerprint256
  socket.destroy()
  return certificate
}

t.test('SIGHUP: new handshakes get the new certificate; a connection open across the reload keeps answering', async (t) => {
  t.equal(await served(), fingerprint(first.cert), server.output())
  const kept = await keptConnection()
  t.match(await kept.ask(), /^HTTP\/1\.1 401/, 'an answer (unsigned: 401) on the kept connection')

  writeFileSync(join(dir, 'server.crt'), next.cert)
  writeFileSync(join(dir, 'server.key'), next.key)
  server.child.kill('SIGHUP')
  await until(async () => (await served()) === fingerprint(next.cert), { timeoutMs: 5000, what: 'the new certificate served' })

  t.match(await kept.ask(), /^HTTP\/1\.1 401/, 'the connection opened before the reload still answers')
  t.equal(kept.socket.getPeerX509Certificate()?.fingerprint256, fingerprint(first.cert), 'on its original session')
  kept.socket.destroy()
  t.notMatch(server.output(), /restart/, 'no restart asked for')
})
