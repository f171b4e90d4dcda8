import { existsSync } from 'node:fs'
import { repoPath } from './paths.js'

/**
 * The official unified OpenAPI document, which the project never ships. Tests
 * that need it read it from the steering repo beside this one (or
 * NLGW_TEST_OPENAPI) and are skipped, saying so, when it is absent.
 */
export const specFile = process.env.NLGW_TEST_OPENAPI ?? repoPath('../shared/spec/network-link-v2/fb-unified-openapi.yaml')
export const specMissing: string | false = existsSync(specFile) ? false : `the Network Link OpenAPI document is not at ${specFile} (set NLGW_TEST_OPENAPI)`
