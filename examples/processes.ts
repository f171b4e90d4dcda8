/**
 * What the demos share: child processes started side by side, each with its
 * own output on the terminal; when one exits the others are stopped, and
 * Ctrl-C (SIGINT) or SIGTERM stops them all.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const root = fileURLToPath(new URL('../../', import.meta.url))

const children: ChildProcess[] = []
let stopping = false

export function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(command, args, { env, stdio: 'inherit' })
  child.on('exit', (code, signal) => {
    if (stopping) return
    console.error(`\n${name} exited (${signal ?? code}); stopping the demo`)
    stop(1)
  })
  children.push(child)
  return child
}

export function stop(code: number): void {
  stopping = true
  for (const child of children) child.kill('SIGTERM')
  setTimeout(() => process.exit(code), 1500).unref()
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r))))).then(() => process.exit(code))
}
process.on('SIGINT', () => stop(0))
process.on('SIGTERM', () => stop(0))

/** Waits until `url` answers below 500; stops the demo if it never does. */
export async function waitFor(url: string, name: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await fetch(url).then((r) => r.status < 500, () => false)) return
    await new Promise((r) => setTimeout(r, 100))
  }
  console.error(`${name} did not come up at ${url}`)
  stop(1)
}
