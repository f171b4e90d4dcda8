/**
 * How cost grows: CPU per request against the size of what the gateway reads
 * and writes, next to a bare proxy over the same synthetic backend
 * (bench/synthetic-backend.ts, mappings in bench/growth.yaml). A list of 20,
 * 200 and 2,000 balances (mapped in full, paged to the spec's maximum of 200),
 * and a POST body of 1, 16 and 64 KiB signed with each scheme: the signature
 * covers the body, so verification grows with it. Growth should be linear: per
 * KiB or per item, the larger sizes cost no more than the smaller ones.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { benchCredentials, gatewayConfig, measure, SCHEMES, type SchemeName } from './http.js'
import type { Row } from './measure.js'
import { plainRequests, signedRequests } from './pools.js'
import { benchDir, root, start, stopAll, until } from './procs.js'

export async function growthBench(seconds: number, { base }: { base: number }): Promise<{ rows: Row[]; findings: string[] }> {
  const dir = benchDir('nlgw-growth-')
  const port = (i: number) => base + i
  const backendUrl = `http://127.0.0.1:${port(0)}`
  start('dist/bench/synthetic-backend.js', { env: { PORT: String(port(0)) } })
  const bare = start('dist/bench/bare-proxy.js', { env: { UPSTREAM: backendUrl, PORT: String(port(1)) } })
  const signing = benchCredentials(dir)
  writeFileSync(join(dir, 'growth.yaml'), stringify(gatewayConfig({ upstream: backendUrl, mappings: join(root, 'bench/growth.yaml'), extra: { logging: { level: 'info' } } })))
  const gateway = start('dist/plugins/server.js', { env: { NLGW_CONFIG: join(dir, 'growth.yaml'), PORT: String(port(2)), METRICS_PORT: String(port(3)) }, nodeOptions: '--max-old-space-size=768 --max-semi-space-size=8' })
  await Promise.all([until(`${backendUrl}/wallets?n=1`), until(`http://127.0.0.1:${port(1)}/v2/wallets?n=1`), until(`http://127.0.0.1:${port(3)}/readyz`)])
  const gatewayUrl = `http://127.0.0.1:${port(2)}`
  const bareUrl = `http://127.0.0.1:${port(1)}`
  const rows: Row[] = []
  const perUnit: Record<string, number[]> = {}
  // Pools are sized from the last run's rate: a 64 KiB body goes far slower than a 20-item list.
  let expected = 3000
  const row = async (what: string, size: number, unit: number, gatewayRequests: (n: number) => ReturnType<typeof plainRequests>, bareRequests: (n: number) => ReturnType<typeof plainRequests>) => {
    const g = await measure(dir, { name: `g-${what}-${size}`, url: gatewayUrl, proc: gateway, requests: gatewayRequests }, seconds, {}, expected)
    const b = await measure(dir, { name: `b-${what}-${size}`, url: bareUrl, proc: bare, requests: bareRequests }, seconds, {}, expected)
    expected = Math.max(200, g.rps)
    const gatewayUs = g.cpuUs.proxy ?? 0
    ;(perUnit[what] ??= []).push(gatewayUs / unit)
    rows.push({ what, size, 'gateway CPU µs/req': Math.round(gatewayUs), 'bare proxy CPU µs/req': Math.round(b.cpuUs.proxy ?? 0), 'gateway µs per unit': gatewayUs / unit, 'gateway req/s': Math.round(g.rps), errors: g.errors + b.errors })
  }
  for (const n of [20, 200, 2000]) {
    const path = `/v2/accounts/a-1/balances?n=${n}&limit=200`
    await row('balances listed', n, n, (count) => signedRequests(signing.hmac, 'GET', path, count), (count) => plainRequests('GET', `/v2/wallets?n=${n}`, {}, Math.min(count, 100)))
  }
  for (const scheme of Object.keys(SCHEMES) as SchemeName[]) {
    for (const kib of [1, 16, 64]) {
      // A JSON body of exactly this size: the signature covers every byte of it.
      const empty = JSON.stringify({ idempotencyKey: 'k', pad: '' })
      const body = empty.replace('""', `"${'p'.repeat(kib * 1024 - empty.length)}"`)
      const path = '/v2/accounts/a-1/transfers/withdrawals/blockchain'
      await row(`POST body KiB, ${scheme}`, kib, kib, (count) => signedRequests(signing[scheme], 'POST', path, count, body), (count) => plainRequests('POST', '/v2/withdrawals', {}, Math.min(count, 100), body))
    }
  }
  stopAll()
  const findings = Object.entries(perUnit).map(([what, costs]) => {
    const [small, , large] = costs as [number, number, number]
    return `${what}: ${costs.map((c) => c.toFixed(1)).join(' / ')} µs per unit from the smallest to the largest size — ${large <= small * 1.25 ? 'linear or better' : 'SUPER-LINEAR'}.`
  })
  return { rows, findings }
}
