#!/usr/bin/env node
import { checkCommand } from './check.js'
import { curlCommand, CURL_USAGE } from './curl.js'
import { errorsCommand } from './errors.js'
import { keygenCommand } from './keygen.js'
import { signCommand, verifyCommand } from './sign.js'
import { testMappingCommand } from './test-mapping.js'
import { UsageError } from './usage.js'

const USAGE = `usage: nlgw <command> [options]

  sign     --algorithm hmac|rsa|ecdsa --hash sha256|sha512|sha3-256
           --pre-encoding plain|url-encoded|base64|hexstr|base58|base32
           --post-encoding base64|hexstr|base58|base32 --key FILE --message STRING
  verify   (the options of sign) --signature SIG
           exit 0 valid, 1 invalid, 2 usage error
  keygen   --algorithm rsa|ecdsa [--curve prime256v1|secp256k1] [--bits N] [--out PREFIX]
  check    [CONFIG]   validate a gateway config and its mappings (default NLGW_CONFIG);
           prints file:line:col problems, exit 1 when there are any
  test-mapping --route "GET /accounts/{accountId}/balances" --upstream-response FILE…
           [--mappings FILE… | --config FILE] [--params JSON] [--query JSON] [--body FILE]
           [--subject ID] [--upstream-status N]
           run one mapped route offline and print its upstream calls and response
  errors   print every error the gateway answers with (status, errorType, metric)
  ${CURL_USAGE.replace('nlgw curl', 'curl    ')}

--key is the HMAC secret file or a PEM key: sign takes a private key,
verify a public key or a private key (its public half is used).`

const COMMANDS: Record<string, (args: string[]) => number | Promise<number>> = {
  sign: signCommand,
  verify: verifyCommand,
  keygen: keygenCommand,
  check: checkCommand,
  'test-mapping': testMappingCommand,
  errors: errorsCommand,
  curl: curlCommand,
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE + '\n')
    return name === undefined ? 2 : 0
  }
  const command = COMMANDS[name]
  if (!command) throw new UsageError(`unknown command "${name}"`)
  return command(args)
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`nlgw: ${err.message}\n\n${USAGE}\n`)
      process.exitCode = 2
    } else {
      process.stderr.write(`nlgw: ${(err as Error).stack ?? String(err)}\n`)
      process.exitCode = 70
    }
  },
)
