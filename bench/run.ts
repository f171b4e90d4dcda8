/**
 * `npm run bench`: every benchmark in one run, reported as ratios against a
 * baseline measured in the same run on the same machine.
 */
import { cpus } from 'node:os'
import { table } from './measure.js'
import { mappingBench } from './mapping.js'
import { verifyBench } from './verify.js'

const ms = Number(process.env.BENCH_MS ?? 1000)
console.log(`# Network Link Gateway benchmarks\n\nnode ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${ms} ms per measurement\n`)
console.log('## Signature verification\n')
console.log(table(verifyBench(ms)))
console.log('\n## Mapping: 20-item balance list (target: within 3× of hand-written JS)\n')
console.log(table(mappingBench(ms)))
