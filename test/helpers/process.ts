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

export interface ServerProcess {
  child: ChildProcess
  url: string
  ops: string
  output(): string
  exited: Promise<number | null>
}

/**
 * The gateway as users run it: `node <server.js>` with NLGW_CONFIG, on free
 * loopback ports, once /healthz answers. `key` (the NL_SECRET) is the `hmac` helper's.
 */
export async function startServer(dir: string, { script = repoPath('dist/plugins/server.js'), env = {} }: { script?: string; env?: Record<string, string> } = {}): Promise<ServerProcess> {
  const port = await freePort()
  const metricsPort = await freePort()
  const child = spawn(process.execPath, [script], {
    cwd: dir,
    env: { PATH: process.env.PATH, NLGW_CONFIG: join(dir, 'gateway.yaml'), NL_SECRET: 's', PORT: String(port), METRICS_PORT: String(metricsPort), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  const ops = `http://127.0.0.1:${metricsPort}`
  for (let i = 0; i < 200 && child.exitCode === null && !(await fetch(`${ops}/healthz`).then((r) => r.ok, () => false)); i++) {
    await new Promise((r) => setTimeout(r, 50))
  }
  return { child, url: `http://127.0.0.1:${port}`, ops, output: () => output, exited }
}
