import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parseEnv } from 'node:util'
import { Client } from 'undici'
import { buildMessage, createSigner, KeyError, type Signer } from '../signing/index.js'
import { schemeFrom, schemeOptions } from './sign.js'
import { parse, UsageError } from './usage.js'

/**
 * `nlgw curl`: one signed Network Link request, as `awscurl` is for SigV4.
 * The message is built from the target and body exactly as they are sent,
 * with a fresh timestamp and nonce; credentials come from the env files the
 * official validator reads (API_KEY, SIGNING_*, SERVER), or from flags.
 */
export const CURL_USAGE = `nlgw curl [-X METHOD] [-d BODY|@FILE] [-H 'Name: value']… [-v] URL|/PATH
           [--env FILE]… [--key-id API_KEY] [--algorithm … --hash … --pre-encoding … --post-encoding …]
           [--key FILE] [--base-path /v2]
           sign and send one request; prints the body (pretty JSON on a terminal), the status on
           stderr, and with -v the signed message and the headers; exit 0 on 2xx, 1 on an HTTP
           error status, 2 on usage errors, 7 when the server cannot be reached`

interface Parts {
  origin: string
  /** The request target exactly as given: path and query. */
  target: string
}

/** Origin and target of a URL, without normalising the target (it is signed as written). */
function split(url: string, server: string | undefined): Parts {
  const full = url.startsWith('/') ? `${(server ?? '').replace(/\/$/, '')}${url}` : url
  const match = /^(https?:\/\/[^/?#]+)(\/[^#]*)?$/.exec(full)
  if (!match) throw new UsageError(url.startsWith('/') ? `a path needs SERVER in an --env file (or give a full URL): ${url}` : `not an http(s) URL: ${url}`)
  return { origin: match[1] as string, target: match[2] ?? '/' }
}

function readBody(data: string | undefined): Buffer | undefined {
  if (data === undefined) return undefined
  if (!data.startsWith('@')) return Buffer.from(data, 'utf8')
  try {
    return readFileSync(data.slice(1))
  } catch (err) {
    throw new UsageError(`cannot read ${data.slice(1)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

function envFiles(paths: string[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const path of paths) {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      throw new UsageError(`cannot read --env ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    Object.assign(env, parseEnv(text))
  }
  return env
}

export async function curlCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    ...schemeOptions,
    request: { type: 'string', short: 'X' },
    data: { type: 'string', short: 'd' },
    header: { type: 'string', short: 'H', multiple: true },
    verbose: { type: 'boolean', short: 'v' },
    env: { type: 'string', multiple: true },
    'key-id': { type: 'string' },
    'base-path': { type: 'string' },
  })
  if (positionals.length !== 1) throw new UsageError('nlgw curl takes one URL (or a path under SERVER)')
  const env = envFiles((values.env as unknown as string[] | undefined) ?? [])
  const flag = (name: string, variable: string) => (values[name] as string | undefined) ?? env[variable]
  const apiKey = flag('key-id', 'API_KEY')
  if (!apiKey) throw new UsageError('give --key-id or an --env file with API_KEY')
  const scheme = schemeFrom({
    algorithm: flag('algorithm', 'SIGNING_ALGORITHM'),
    hash: flag('hash', 'SIGNING_HASH_ALGORITHM'),
    curve: values.curve,
    'pre-encoding': flag('pre-encoding', 'SIGNING_PRE_ENCODING'),
    'post-encoding': flag('post-encoding', 'SIGNING_POST_ENCODING'),
  })
  const keyFile = values.key as string | undefined
  const key = keyFile !== undefined ? readFileSync(keyFile) : env.SIGNING_PRIVATE_KEY
  if (!key) throw new UsageError('give --key FILE or an --env file with SIGNING_PRIVATE_KEY')
  let signer: Signer
  try {
    signer = createSigner(scheme, key)
  } catch (err) {
    if (err instanceof KeyError) throw new UsageError(err.message)
    throw err
  }

  const { origin, target } = split(positionals[0] as string, env.SERVER)
  const basePath = (values['base-path'] as string | undefined) ?? (env.SERVER ? new URL(env.SERVER).pathname.replace(/\/$/, '') : '/v2')
  if (!target.startsWith(basePath)) throw new UsageError(`the URL's path does not start with the base path ${basePath}; pass --base-path`)
  const method = ((values.request as string | undefined) ?? (values.data !== undefined ? 'POST' : 'GET')).toUpperCase()
  const body = readBody(values.data as string | undefined)
  const timestamp = String(Date.now())
  const nonce = randomUUID()
  const parts = { timestamp, nonce, method, endpoint: target.slice(basePath.length), body }
  const headers: Record<string, string> = {
    ...(body ? { 'content-type': 'application/json' } : {}),
    ...Object.fromEntries(((values.header as unknown as string[] | undefined) ?? []).map(headerPair)),
    'x-fbapi-key': apiKey,
    'x-fbapi-timestamp': timestamp,
    'x-fbapi-nonce': nonce,
    'x-fbapi-signature': signer.signRequest(parts),
  }
  const verbose = values.verbose === true
  if (verbose) {
    process.stderr.write(`* signed message (${scheme.algorithm} ${scheme.hash}, pre ${scheme.preEncoding}, post ${scheme.postEncoding}):\n* ${buildMessage(parts).toString('utf8')}\n`)
    process.stderr.write(`> ${method} ${target}\n${Object.entries(headers).map(([n, v]) => `> ${n}: ${v}`).join('\n')}\n`)
  }
  // A client sends the target verbatim (request(url) would normalise it), and is closed after: no keep-alive wait at exit.
  const client = new Client(origin)
  let res
  let text: string
  try {
    res = await client.request({ method: method as 'GET', path: target, headers, body: body ?? null })
    text = await res.body.text()
  } catch (err) {
    process.stderr.write(`nlgw curl: ${origin}: ${(err as { code?: string }).code ?? (err as Error).message}\n`)
    return 7
  } finally {
    await client.close()
  }
  process.stderr.write(`< ${res.statusCode}\n`)
  if (verbose) process.stderr.write(`${Object.entries(res.headers).map(([n, v]) => `< ${n}: ${String(v)}`).join('\n')}\n`)
  process.stdout.write(pretty(text) + (text.endsWith('\n') ? '' : '\n'))
  return res.statusCode >= 200 && res.statusCode < 300 ? 0 : 1
}

function headerPair(header: string): [string, string] {
  const colon = header.indexOf(':')
  if (colon < 1) throw new UsageError(`-H takes 'Name: value', not ${JSON.stringify(header)}`)
  return [header.slice(0, colon).trim().toLowerCase(), header.slice(colon + 1).trim()]
}

/** Indented JSON on a terminal; anything else as it came. */
function pretty(text: string): string {
  if (!process.stdout.isTTY) return text
  try {
    return JSON.stringify(JSON.parse(text), null, 2)
  } catch {
    return text
  }
}
