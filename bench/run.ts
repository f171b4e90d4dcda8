/**
 * `npm run bench`: every benchmark in one run, reported as ratios against
 * baselines measured in the same run on the same machine, and written to
 * bench/RESULTS.md. BENCH_MS sets the micro-benchmark time, BENCH_HTTP_SECONDS
 * each HTTP run, BENCH_PORT the first of nine loopback ports used.
 */
import { execSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { httpBench, stopAll } from './http.js'
import { mappingBench } from './mapping.js'
import { table } from './measure.js'
import { verifyBench } from './verify.js'

const ms = Number(process.env.BENCH_MS ?? 1000)
const seconds = Number(process.env.BENCH_HTTP_SECONDS ?? 5)
const out: string[] = []
const print = (text: string) => {
  console.log(text)
  out.push(text)
}
// The backend, Redis and gateways are child processes: never leave them holding the ports.
process.on('exit', stopAll)
process.on('SIGINT', () => process.exit(130))

print('# Network Link Gateway benchmarks\n')
print(`${new Date().toISOString().slice(0, 10)} — node ${process.version}, nproc ${execSync('nproc').toString().trim()} (${cpus()[0]?.model ?? 'unknown CPU'}); load generator, gateway, backend and Redis share the machine, so compare ratios, not absolute numbers.\n`)
print('## Signature verification: the gateway\'s verifier next to the raw library call\n')
print(table(verifyBench(ms)))
print('\n## Mapping: a 20-item balance list (target: within 3× of hand-written JS)\n')
print(table(mappingBench(ms)))
print(`\n## HTTP: ${seconds} s per run. Maximum: 32 connections, closed loop (autocannon). Half load: half of each configuration's own maximum, open loop at a steady rate, latency from when each request was due; added p99 = gateway minus the backend direct at the same rate\n`)
const http = await httpBench(seconds, { base: Number(process.env.BENCH_PORT ?? 18_300) })
print(table(http.rows))
print('')
for (const finding of http.findings) print(`- ${finding}`)
writeFileSync(new URL('../../bench/RESULTS.md', import.meta.url), out.join('\n') + '\n')
print('\nwritten to bench/RESULTS.md')
process.exit(0)
