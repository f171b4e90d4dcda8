/**
 * A backend whose answers have the size the growth benchmark asks for:
 * `GET /wallets?n=N` lists N wallets in the demo exchange's shape, and
 * `POST /withdrawals` reads a body of any size and answers a small record.
 * node:http, so that the backend's own cost stays low and flat.
 */
import { createServer } from 'node:http'

const wallet = (i: number) => ({
  wallet_id: `w-${i}`,
  asset: { type: 'COIN', currency: 'BTC', network: 'BITCOIN' },
  available_minor: 123_456_789 + i,
  held_minor: i,
  decimals: 8,
})
const lists = new Map<number, string>()

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://backend')
  if (req.method === 'GET' && url.pathname === '/wallets') {
    const n = Number(url.searchParams.get('n') ?? 20)
    let body = lists.get(n)
    if (body === undefined) lists.set(n, (body = JSON.stringify({ wallets: Array.from({ length: n }, (_, i) => wallet(i)) })))
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body)
    return
  }
  let size = 0
  req.on('data', (chunk: Buffer) => (size += chunk.length))
  req.on('end', () => {
    const body = JSON.stringify({ withdrawal_id: 'wd-1', state: 'PENDING', bytes: size })
    res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body)
  })
}).listen(Number(process.env.PORT), '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
