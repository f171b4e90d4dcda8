/**
 * Open-loop latency at a fixed request rate. autocannon's `overallRate` is a
 * per-second quota (each second starts with a burst at full speed) and its
 * coordinated-omission correction back-fills every response slower than 1 ms,
 * so its p99 "at half load" is really the p99 of a burst. Here requests leave
 * on a steady schedule and each latency runs from when the request was due, so
 * queueing anywhere (load generator included) counts against the target.
 */
import { Pool, type buildConnector } from 'undici'

export interface PacedRequest {
  path: string
  headers: Record<string, string>
}

export interface PacedRun {
  rps: number
  p50: number
  p99: number
  errors: number
}

/** `connect`: TLS options for an https:// url (a private CA, a client certificate). */
export async function paced(url: string, seconds: number, rate: number, next: () => PacedRequest, connect?: buildConnector.BuildOptions): Promise<PacedRun> {
  const pool = new Pool(url, { connections: 32, ...(connect ? { connect } : {}) })
  const total = Math.max(1, Math.round(rate * seconds))
  const latencies = new Float64Array(total)
  let sent = 0
  let finished = 0
  let errors = 0
  const start = performance.now()
  await new Promise<void>((resolve) => {
    const send = (i: number) => {
      const due = start + (i * 1000) / rate
      const { path, headers } = next()
      pool
        .request({ method: 'GET', path, headers })
        .then(async (res) => {
          await res.body.dump()
          if (res.statusCode >= 300) errors++
        }, () => errors++)
        .finally(() => {
          latencies[i] = performance.now() - due
          if (++finished === total) resolve()
        })
    }
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1)
      while (sent < due) send(sent++)
      if (sent < total) setTimeout(tick, 1)
    }
    tick()
  })
  const elapsed = (performance.now() - start) / 1000
  await pool.close()
  latencies.sort()
  const at = (q: number) => Number((latencies[Math.min(total - 1, Math.floor(q * total))] as number).toFixed(2))
  return { rps: total / elapsed, p50: at(0.5), p99: at(0.99), errors }
}
