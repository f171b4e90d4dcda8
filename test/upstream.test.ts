import t from 'tap'
import { createServer } from 'node:http'
import { Upstream, UpstreamError } from '../src/upstream.js'
import { Backend } from './helpers/backend.js'
import { until } from './helpers/poll.js'

/** The promise's value, or a rejection once `ms` have passed. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))])
  } finally {
    clearTimeout(timer)
  }
}

t.test('a response over maxResponseBytes is refused as too-large, and the pool still serves the next request', async (t) => {
  const big = 'x'.repeat(256 * 1024)
  const backend = await Backend.start((req) => (req.url === '/big' ? { body: big, headers: { 'content-type': 'text/plain' } } : { body: { ok: true, url: req.url } }))
  // One connection: if the refused response were left half-read, the next request would wait for it forever.
  const upstream = new Upstream({ url: backend.url, connections: 1, connectTimeoutMs: 1000, maxResponseBytes: 1024 })
  t.teardown(async () => {
    await upstream.pool.destroy() // not close(): that would wait for a leaked response when this test fails
    await backend.close()
  })

  const small = await upstream.request({ method: 'GET', path: '/small', headers: {}, timeoutMs: 2000 })
  t.equal(small.status, 200)
  t.same(JSON.parse(small.body.toString()), { ok: true, url: '/small' }, 'under the limit: the whole body')

  const err = await upstream.request({ method: 'GET', path: '/big', headers: {}, timeoutMs: 2000 }).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(err instanceof UpstreamError, 'an UpstreamError')
  t.equal((err as UpstreamError).kind, 'too-large')
  t.match((err as Error).message, /over 1024 bytes/)

  for (let i = 0; i < 3; i++) {
    // Bounded here too: a request queued behind a leaked connection would wait past its own deadline (see below).
    const next = await within(3000, upstream.request({ method: 'GET', path: `/after-${i}`, headers: {}, timeoutMs: 2000 }))
    t.same(JSON.parse(next.body.toString()), { ok: true, url: `/after-${i}` }, `request ${i + 1} after the refusal is served`)
  }
  await until(async () => (await backend.connections()) === 1, { what: 'the refused response\'s connection to close' })
  t.equal(await backend.connections(), 1, 'one connection open: the refused one was destroyed, not kept half-read')
  t.equal(backend.requests.length, 5)
})

t.test('exactly maxResponseBytes is allowed; one byte more is not', async (t) => {
  const backend = await Backend.start((req) => ({ body: 'y'.repeat(Number(req.url.slice(1))), headers: { 'content-type': 'text/plain' } }))
  const upstream = new Upstream({ url: backend.url, connections: 1, connectTimeoutMs: 1000, maxResponseBytes: 100 })
  t.teardown(async () => {
    await upstream.close()
    await backend.close()
  })
  t.equal((await upstream.request({ method: 'GET', path: '/100', headers: {}, timeoutMs: 2000 })).body.length, 100)
  await t.rejects(upstream.request({ method: 'GET', path: '/101', headers: {}, timeoutMs: 2000 }), { name: 'UpstreamError', kind: 'too-large' })
  t.equal((await upstream.request({ method: 'GET', path: '/0', headers: {}, timeoutMs: 2000 })).body.length, 0, 'and an empty body after it')
})

t.test('a large streamed response is refused before it is all read', async (t) => {
  let written = 0
  let closed = false
  // Streams chunks for as long as the client reads: a body with no end in sight.
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.on('close', () => (closed = true))
    const chunk = Buffer.alloc(16 * 1024, 0x61)
    const pump = () => {
      while (!res.destroyed && written < 64 << 20) {
        written += chunk.length
        if (!res.write(chunk)) return res.once('drain', pump)
      }
      res.end()
    }
    pump()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const upstream = new Upstream({ url: `http://127.0.0.1:${port}`, connections: 1, connectTimeoutMs: 1000, maxResponseBytes: 64 * 1024 })
  t.teardown(async () => {
    await upstream.close()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  await t.rejects(upstream.request({ method: 'GET', path: '/stream', headers: {}, timeoutMs: 5000 }), { name: 'UpstreamError', kind: 'too-large' })
  await until(() => closed, { what: 'the backend to see its response abandoned' })
  t.ok(written < 64 << 20, `the gateway stopped reading early (${written} bytes written of 64 MiB)`)
})

t.test('a request waiting for a busy pool\'s only connection still gives up at its own deadline', async (t) => {
  // "One deadline for the whole exchange": the wait for a pooled connection is part of the exchange.
  const backend = await Backend.start((req) => ({ body: { url: req.url }, delayMs: req.url === '/slow' ? 1500 : 0 }))
  const upstream = new Upstream({ url: backend.url, connections: 1, connectTimeoutMs: 1000 })
  t.teardown(async () => {
    await upstream.pool.destroy()
    await backend.close()
  })
  const slow = upstream.request({ method: 'GET', path: '/slow', headers: {}, timeoutMs: 5000 })
  await until(() => backend.requests.length === 1, { what: 'the slow request to occupy the connection' })
  const started = performance.now()
  const err = await upstream.request({ method: 'GET', path: '/quick', headers: {}, timeoutMs: 200 }).then(
    () => undefined,
    (e: unknown) => e,
  )
  const waited = performance.now() - started
  t.equal((err as UpstreamError | undefined)?.kind, 'timeout', 'refused as a timeout')
  t.ok(waited < 1000, `within about its 200 ms deadline, not when the connection frees up (waited ${Math.round(waited)} ms)`)
  t.same(JSON.parse((await slow).body.toString()), { url: '/slow' }, 'the slow request itself is answered')
})
