/**
 * A flood of bogus signatures with a known API key (SECURITY, issue 14 row 6):
 * the latency of a legitimate signed GET alone, then while N connections post
 * 8 KB bodies with made-up signatures under a base58 credential (its
 * pre-encoding costs super-linear CPU, paid before the signature can be
 * refused), then under the same flood with a cheap scheme (RSA, url-encoded),
 * the yardstick: a base58 flood must cost no more than any other flood.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { base32 } from '@scure/base'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { stringify } from 'yaml'
import { createSigner } from '../src/signing/index.js'
import type { Row } from './measure.js'
import { benchDir, root, start, stopAll, until } from './procs.js'

const SECRET = 'flood-secret'
const B58 = { algorithm: 'hmac', hash: 'sha3-256', preEncoding: 'base58', postEncoding: 'base32' } as const

export async function floodBench({ base, flooders = 32, seconds = 3 }: { base: number; flooders?: number; seconds?: number }): Promise<{ rows: Row[]; findings: string[] }> {
  const dir = benchDir('nlgw-flood-')
  const backendUrl = `http://127.0.0.1:${base}`
  start('dist/bench/synthetic-backend.js', { env: { PORT: String(base) } })
  writeFileSync(join(dir, 'secret'), SECRET)
  writeFileSync(
    join(dir, 'credentials.yaml'),
    stringify({ credentials: [{ id: 'b58', apiKey: 'b58', secret: { file: 'secret' }, subject: 'u', scheme: B58 }, { id: 'cheap', apiKey: 'cheap', secret: { file: 'secret' }, subject: 'u' }] }),
  )
  writeFileSync(
    join(dir, 'gateway.yaml'),
    stringify({
      server: { host: '127.0.0.1', basePath: '/v2' },
      auth: { scheme: { algorithm: 'hmac', hash: 'sha256', preEncoding: 'url-encoded', postEncoding: 'base64' }, credentials: [{ file: 'credentials.yaml' }] },
      upstream: { url: backendUrl },
      mappings: [join(root, 'bench/growth.yaml')],
    }),
  )
  start('dist/plugins/server.js', { env: { NLGW_CONFIG: join(dir, 'gateway.yaml'), PORT: String(base + 1), METRICS_PORT: String(base + 2) } })
  await until(`http://127.0.0.1:${base + 2}/readyz`)
  const url = `http://127.0.0.1:${base + 1}`
  const agent = new Agent({ connections: flooders + 4 })
  const signer = createSigner(B58, SECRET)

  const legit = async () => {
    const timestamp = String(Date.now())
    const nonce = randomUUID()
    const path = '/v2/accounts/a-1/balances?n=20'
    const started = performance.now()
    const res = await request(`${url}${path}`, { dispatcher: agent, headers: { 'x-fbapi-key': 'b58', 'x-fbapi-timestamp': timestamp, 'x-fbapi-nonce': nonce, 'x-fbapi-signature': signer.signRequest({ timestamp, nonce, method: 'GET', endpoint: path.slice(3) }) } })
    await res.body.dump()
    if (res.statusCode !== 200) throw new Error(`legitimate request answered ${res.statusCode}`)
    return performance.now() - started
  }
  const sample = async (n: number) => {
    const latencies: number[] = []
    for (let i = 0; i < n; i++) latencies.push(await legit())
    latencies.sort((a, b) => a - b)
    return { p50: latencies[n >> 1] as number, p99: latencies[Math.floor(n * 0.99)] as number }
  }
  const body = JSON.stringify({ idempotencyKey: randomUUID(), pad: 'x'.repeat(8000 - 70) })
  // Made-up signatures of the right length and encoding, so that each one is pre-encoded and verified in full.
  const bogus: Record<string, string> = { b58: base32.encode(randomBytes(32)).toLowerCase(), cheap: randomBytes(32).toString('base64') }
  const flood = async (apiKey: string) => {
    let stop = false
    let sent = 0
    const worker = async () => {
      while (!stop) {
        const res = await request(`${url}/v2/accounts/a-1/transfers/withdrawals/blockchain`, {
          method: 'POST',
          dispatcher: agent,
          body,
          headers: { 'content-type': 'application/json', 'x-fbapi-key': apiKey, 'x-fbapi-timestamp': String(Date.now()), 'x-fbapi-nonce': randomUUID(), 'x-fbapi-signature': bogus[apiKey] as string },
        })
        await res.body.dump()
        sent++
      }
    }
    const workers = Array.from({ length: flooders }, worker)
    await new Promise((r) => setTimeout(r, 500))
    const started = performance.now()
    const before = sent
    const latency = await sample(Math.max(100, seconds * 50))
    const rate = ((sent - before) * 1000) / (performance.now() - started)
    stop = true
    await Promise.all(workers)
    return { ...latency, rate }
  }
  await sample(50)
  const alone = await sample(300)
  const base58 = await flood('b58')
  const cheap = await flood('cheap')
  await agent.close()
  stopAll()
  const rows: Row[] = [
    { condition: 'alone', 'legitimate p50 ms': alone.p50, 'legitimate p99 ms': alone.p99, 'bogus req/s': '' },
    { condition: `${flooders} connections of bogus base58 8 KB POSTs`, 'legitimate p50 ms': base58.p50, 'legitimate p99 ms': base58.p99, 'bogus req/s': Math.round(base58.rate) },
    { condition: `${flooders} connections of bogus url-encoded 8 KB POSTs (the yardstick)`, 'legitimate p50 ms': cheap.p50, 'legitimate p99 ms': cheap.p99, 'bogus req/s': Math.round(cheap.rate) },
  ]
  return {
    rows,
    findings: [`Under a base58 flood a legitimate request took ${(base58.p50 / alone.p50).toFixed(1)}× its time alone at p50; under the same flood with a cheap scheme, ${(cheap.p50 / alone.p50).toFixed(1)}×: a base58 flood ${base58.p50 <= cheap.p50 * 1.25 ? 'costs no more than' : 'costs MORE than'} any other.`],
  }
}
