import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { freePort } from './ports.js'
import { repoPath } from './paths.js'
import { tempDir } from './temp.js'

/**
 * A project directory as a user writes one: gateway.yaml (an object, written
 * as YAML), credentials.yaml (one HMAC credential acting as `u`, its secret
 * in NL_SECRET) and any other files.
 */
export function writeProject(gateway: Record<string, unknown>, files: Record<string, string> = {}): string {
  const dir = tempDir('nlgw-project-')
  writeFileSync(join(dir, 'credentials.yaml'), 'credentials:\n  - { apiKey: test-key, secret: { env: NL_SECRET }, subject: u }\n')
  writeFileSync(
    join(dir, 'gateway.yaml'),
    stringify({
      auth: { scheme: { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' }, credentials: [{ file: 'credentials.yaml' }] },
      ...gateway,
    }),
  )
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

export interface Spawned {
  child: ChildProcess
  /** Its stdout and stderr so far. */
  output(): string
  exited: Promise<number | null>
}

/** A node script as a child process with only the environment given (and PATH), its output collected. */
export function spawnNode(script: string, env: Record<string, string>, cwd?: string): Spawned {
  const child = spawn(process.execPath, [script], { ...(cwd ? { cwd } : {}), env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  return { child, output: () => output, exited }
}

export interface ServerProcess extends Spawned {
  url: string
  ops: string
}

/**
 * The gateway as users run it: `node <server.js>` with NLGW_CONFIG, on free
 * loopback ports, once /healthz answers. `key` (the NL_SECRET) is the `hmac` helper's.
 */
export async function startServer(dir: string, { script = repoPath('dist/plugins/server.js'), env = {} }: { script?: string; env?: Record<string, string> } = {}): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const metricsPort = await freePort()
    const server = spawnNode(script, { NLGW_CONFIG: join(dir, 'gateway.yaml'), NL_SECRET: 's', PORT: String(port), METRICS_PORT: String(metricsPort), ...env }, dir)
    const ops = `http://127.0.0.1:${metricsPort}`
    for (let i = 0; i < 200 && server.child.exitCode === null && !(await fetch(`${ops}/healthz`).then((r) => r.ok, () => false)); i++) {
      await new Promise((r) => setTimeout(r, 50))
    }
    // A port taken between freePort and the child's bind: another pair, rather than a failed test.
    if (server.child.exitCode !== null && attempt < 3 && server.output().includes('EADDRINUSE')) continue
    return { ...server, url: `http://127.0.0.1:${port}`, ops }
  }
}
