import t from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ESLint } from 'eslint'
import { repoPath, repoRoot } from '../helpers/paths.js'

/** README and DESIGN.md: the core in src/ never imports Fastify; plugins/ wire it in. */
t.test('the ESLint boundary rule refuses Fastify and plugins/ in src/, and only there', async (t) => {
  const eslint = new ESLint({ cwd: repoRoot })
  const lint = async (code: string, filePath: string) => (await eslint.lintText(code, { filePath: repoPath(filePath) }))[0]?.messages.filter((m) => m.ruleId === 'no-restricted-imports') ?? []
  const forbidden = [
    "import Fastify from 'fastify'\nexport const app = Fastify",
    "import type { FastifyInstance } from 'fastify'\nexport type A = FastifyInstance",
    "import fp from 'fastify-plugin'\nexport const p = fp",
    "import replyFrom from '@fastify/reply-from'\nexport const r = replyFrom",
    "import { buildApp } from '../plugins/app.js'\nexport const b = buildApp",
  ]
  for (const code of forbidden) t.equal((await lint(code, 'src/mapping/sneaky.ts')).length, 1, `src/: ${code.split('\n')[0]}`)
  t.equal((await lint(forbidden[0] as string, 'plugins/fine.ts')).length, 0, 'plugins/ may import Fastify')
  t.equal((await lint("import { ERRORS } from '../errors.js'\nexport const e = ERRORS", 'src/mapping/fine.ts')).length, 0, 'core imports are fine')
})

t.test('the CLI loads no Fastify: `nlgw check` resolves only core modules', async (t) => {
  const dir = t.testdir({ 'record.mjs': RECORDER })
  const log = join(dir, 'modules.txt')
  const code = await new Promise<number | null>((resolve) => {
    const child = execFile(process.execPath, ['--import', join(dir, 'record.mjs'), repoPath('dist/src/cli/nlgw.js'), 'check', repoPath('config/demo/gateway.yaml')], { env: { PATH: process.env.PATH, MODULES_LOG: log } })
    child.on('exit', resolve)
  })
  t.equal(code, 0, 'the demo config checks')
  const modules = readFileSync(log, 'utf8').split('\n').filter(Boolean)
  t.ok(modules.some((m) => m.includes('/dist/src/config/load.js')), `the recorder saw the core (${modules.length} modules)`)
  t.same(modules.filter((m) => /\/node_modules\/(fastify|@fastify|fastify-plugin)\//.test(m) || m.includes('/dist/plugins/')), [], 'no Fastify, no plugins/')
})

/** Records every module URL the process resolves (Node's synchronous module hooks), written at exit. */
const RECORDER = `import { registerHooks } from 'node:module'
import { writeFileSync } from 'node:fs'
const seen = new Set()
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r } })
process.on('exit', () => writeFileSync(process.env.MODULES_LOG, [...seen].join('\\n')))
`
