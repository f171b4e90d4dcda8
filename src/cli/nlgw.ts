#!/usr/bin/env node
import { checkCommand } from './check.js'
import { curlCommand, CURL_USAGE } from './curl.js'
import { errorsCommand } from './errors.js'
import { keygenCommand } from './keygen.js'
import { signCommand, verifyCommand } from './sign.js'
import { testMappingCommand, TEST_MAPPING_USAGE } from './test-mapping.js'
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
  test-mapping --route "GET /accounts/{accountId}/balances" [--upstream-response [CALL=]FILE]…
           [--config FILE | --mappings FILE… [--openapi FILE]] [--params JSON] [--query JSON]
           [--body FILE] [--subject ID] [--upstream-status [CALL=]CODE]…
           run one mapped route offline through the gateway's pipeline; nlgw test-mapping --help
  errors   print every error the gateway answers with (status, errorType, metric)
  ${CURL_USAGE.replace('nlgw curl', 'curl    ')}

--key is the HMAC secret file or a PEM key: sign takes a private key,
verify a public key or a private key (its public half is used).`

/** `nlgw COMMAND --help`: the command's own usage where it has one. */
const HELP: Record<string, string> = { 'test-mapping': TEST_MAPPING_USAGE, curl: CURL_USAGE }

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
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${HELP[name] ?? USAGE}\n`)
    return 0
  }
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
