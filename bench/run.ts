/**
 * `npm run bench`: every benchmark in one run, reported as ratios against
 * baselines measured in the same run on the same machine, and written to
 * bench/RESULTS.md — or, on a Node.js other than the one package.json's
 * engines names, to bench/RESULTS-node<major>.md beside it, for comparing
 * runtimes. bench/OPTIMIZATIONS.md (before/after per change, written when
 * each change was measured) is appended. BENCH_MS sets the micro-benchmark time, BENCH_HTTP_SECONDS
 * each HTTP run, BENCH_PORT the first of the loopback ports used.
 */
import { execSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { floodBench } from './flood.js'
import { growthBench } from './growth.js'
import { httpBench } from './http.js'
import { mappingBench } from './mapping.js'
import { pipelineBench } from './pipeline.js'
import { table } from './measure.js'
import { stopAll } from './procs.js'
import { verifyBench } from './verify.js'

const ms = Number(process.env.BENCH_MS ?? 1000)
const seconds = Number(process.env.BENCH_HTTP_SECONDS ?? 5)
const base = Number(process.env.BENCH_PORT ?? 18_300)
const out: string[] = []
const print = (text: string) => {
  console.log(text)
  out.push(text)
}
// The backends, Redis and gateways are child processes: never leave them holding the ports.
process.on('exit', stopAll)
process.on('SIGINT', () => process.exit(130))

print('# Network Link Gateway benchmarks\n')
print(`${new Date().toISOString().slice(0, 10)} — node ${process.version}, nproc ${execSync('nproc').toString().trim()} (${cpus()[0]?.model ?? 'unknown CPU'}); load generator, gateway, backend and Redis share the machine: read CPU per request and ratios, not absolute req/s.\n`)
print("## Signature verification: the gateway's verifier next to the raw library call\n")
print(table(verifyBench(ms)))
print('\n## Mapping: a 20-item balance list (target: within 3× of hand-written JS)\n')
print(table(mappingBench(ms)))
print("\n## The mapped balances route in process: the gateway's pipeline next to the same work written by hand (no sockets, no framework)\n")
print(table(await pipelineBench(ms)))
print(`\n## HTTP, mapped GET /accounts/{id}/balances: ${seconds} s per run, 32 connections, closed loop (wrk), every gateway request freshly signed. CPU µs/req is the process's own utime+stime over the requests it answered\n`)
const http = await httpBench(seconds, { base })
print(table(http.rows))
print('\n### Latency at half of each one\'s maximum (open loop, generator and target pinned to different cores)\n')
print(table(http.latency))
print('')
for (const finding of http.findings) print(`- ${finding}`)
print(`\n## How cost grows with list size and body size (${seconds} s per run)\n`)
const growth = await growthBench(seconds, { base: base + 20 })
print(table(growth.rows))
print('')
for (const finding of growth.findings) print(`- ${finding}`)
print('\n## A flood of bogus signatures with a known key\n')
const flood = await floodBench({ base: base + 30 })
print(table(flood.rows))
print('')
for (const finding of flood.findings) print(`- ${finding}`)
print(`\n${readFileSync(new URL('../../bench/OPTIMIZATIONS.md', import.meta.url), 'utf8').trimEnd()}`)
const engines = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).engines.node as string
const major = process.versions.node.split('.')[0] as string
const file = engines.match(/\d+/)?.[0] === major ? 'RESULTS.md' : `RESULTS-node${major}.md`
writeFileSync(new URL(`../../bench/${file}`, import.meta.url), out.join('\n') + '\n')
console.log(`\nwritten to bench/${file}`)
process.exit(0)
