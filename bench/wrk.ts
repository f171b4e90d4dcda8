/**
 * Closed-loop load with wrk (Debian's wrk 4, one thread, N connections),
 * replaying a pool of pre-built requests so that the load generator signs
 * nothing while it runs. The CPU each named process spends during the run is
 * read from /proc and divided by the requests wrk saw answered.
 */
import { execFile } from 'node:child_process'
import { closeSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { cpuSeconds, root } from './procs.js'

export interface RawRequest {
  method: string
  path: string
  headers: Record<string, string>
  body?: string
}

export interface WrkRun {
  requests: number
  rps: number
  p50: number
  p99: number
  /** Non-2xx answers and socket errors. */
  errors: number
  /** CPU microseconds per answered request, by process name. */
  cpuUs: Record<string, number>
}

/** One request as wrk sends it: raw HTTP/1.1. */
export function rawRequest(host: string, r: RawRequest): string {
  const body = r.body ?? ''
  const headers = { host, ...r.headers, ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) }
  return `${r.method} ${r.path} HTTP/1.1\r\n${Object.entries(headers).map(([n, v]) => `${n}: ${v}`).join('\r\n')}\r\n\r\n${body}`
}

/** The pool as wrk's Lua reads it: raw HTTP/1.1 requests separated by NUL. */
export function writePool(file: string, host: string, requests: RawRequest[]): void {
  const fd = openSync(file, 'w')
  try {
    for (const r of requests) writeSync(fd, `${rawRequest(host, r)}\0`)
  } finally {
    closeSync(fd)
  }
}

function ms(text: string | undefined): number {
  const [, value, unit] = /([\d.]+)(us|ms|s)/.exec(text ?? '') ?? []
  const n = Number(value)
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n
}

export async function wrk(url: string, pool: string, seconds: number, processes: Record<string, number>, { connections = 32, cpus }: { connections?: number; cpus?: string } = {}): Promise<WrkRun> {
  const before = Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuSeconds(pid)]))
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', join(root, 'bench/lua/pool.lua'), url, '--', pool]
  const [command, argv] = cpus === undefined ? ['wrk', args] : ['taskset', ['-c', cpus, 'wrk', ...args]]
  const out = await new Promise<string>((resolve, reject) =>
    execFile(command as string, argv as string[], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`wrk: ${stderr || err.message}`)) : resolve(stdout))),
  )
  const cpu = Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuSeconds(pid) - (before[name] as number)]))
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0)
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + [...out.matchAll(/(?:connect|read|write|timeout) (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0)
  return {
    requests,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    p50: ms(/50%\s+(\S+)/.exec(out)?.[1]),
    p99: ms(/99%\s+(\S+)/.exec(out)?.[1]),
    errors,
    cpuUs: Object.fromEntries(Object.entries(cpu).map(([name, seconds]) => [name, requests ? (seconds * 1e6) / requests : 0])),
  }
}
