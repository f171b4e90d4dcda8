import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/**
 * Below the kernel's ephemeral range, where outgoing connections take their
 * local ports: a port from port 0 is in that range, and between this check
 * and the child process binding it, one of the many connections the HA tests
 * open can take it (EADDRINUSE, seen once in a switchover test).
 */
const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [number]
const RANGE = { low: 10_000, high: ephemeralLow - 1 }

/** A port that was free a moment ago on loopback (for servers that cannot bind port 0), outside the ephemeral range when there is room. */
export async function freePort(): Promise<number> {
  if (RANGE.high - RANGE.low < 1000) return bind(0)
  for (;;) {
    const candidate = RANGE.low + Math.floor(Math.random() * (RANGE.high - RANGE.low + 1))
    const port = await bind(candidate).catch(() => undefined)
    if (port !== undefined) return port
  }
}

function bind(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(port, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
