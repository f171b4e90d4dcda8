/**
 * The processes a benchmark runs side by side, and what each one costs: CPU
 * time from /proc/PID/stat (utime + stime, the process and its children, e.g.
 * cluster workers) and RSS. CPU per request is the steady figure on shared
 * cores, where req/s moves with whatever else the machine is doing.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const root = new URL('../../', import.meta.url).pathname
/** The heap flags the image, the manifests and `npm start` ship with. */
export const NODE_OPTIONS = '--max-old-space-size=128 --max-semi-space-size=8'
const TICKS_PER_SECOND = 100 // getconf CLK_TCK on Linux

const children: ChildProcess[] = []

export interface StartOptions {
  env?: NodeJS.ProcessEnv
  nodeOptions?: string
  /** Pin to these CPUs (taskset -c), e.g. '1'. */
  cpus?: string
}

/** A Node script relative to the repository (or absolute: another build), or any command when `script` is an array. */
export function start(script: string | string[], { env = {}, nodeOptions = NODE_OPTIONS, cpus }: StartOptions = {}): ChildProcess {
  const command = Array.isArray(script) ? script : [process.execPath, resolve(root, script)]
  const argv = cpus === undefined ? command : ['taskset', '-c', cpus, ...command]
  // Its own process group: stopping it stops what it started too (nginx's worker outlived a killed master).
  const child = spawn(argv[0] as string, argv.slice(1), { env: { PATH: process.env.PATH, NODE_OPTIONS: nodeOptions, ...env }, stdio: ['ignore', 'ignore', 'inherit'], detached: true })
  children.push(child)
  return child
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-(child.pid as number), 'SIGKILL')
  } catch {
    // Already gone.
  }
}

export function stop(child: ChildProcess): void {
  killGroup(child)
  children.splice(children.indexOf(child), 1)
}

export function stopAll(): void {
  for (const child of children.splice(0)) killGroup(child)
}

/** A directory under the system temp dir for one bench run, removed when the process exits. */
export function benchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export async function until(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await fetch(url).then((r) => r.status < 500, () => false)) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${url} did not come up`)
}

function stat(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name is in parentheses and may hold spaces: fields start after it.
    return text.slice(text.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/** The pids of a process and all its descendants. */
function tree(pid: number): number[] {
  const parents = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const fields = stat(Number(entry))
    if (!fields) continue
    const ppid = Number(fields[1])
    parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)])
  }
  const out: number[] = []
  const walk = (p: number) => {
    out.push(p)
    for (const child of parents.get(p) ?? []) walk(child)
  }
  walk(pid)
  return out
}

/** CPU seconds (user + system) used so far by a process and its descendants. */
export function cpuSeconds(pid: number): number {
  let ticks = 0
  for (const p of tree(pid)) {
    const fields = stat(p)
    // utime and stime are fields 14 and 15 of /proc/PID/stat (11 and 12 after the name).
    if (fields) ticks += Number(fields[11]) + Number(fields[12])
  }
  return ticks / TICKS_PER_SECOND
}

/** Resident memory of a process and its descendants, in MB. */
export function rssMb(child: ChildProcess): number {
  if (child.exitCode !== null || child.signalCode !== null) throw new Error(`a process under test died (${child.exitCode ?? child.signalCode}); its stderr is above`)
  let kb = 0
  for (const p of tree(child.pid as number)) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0)
    } catch {
      // exited in between
    }
  }
  return Math.round(kb / 1024)
}
