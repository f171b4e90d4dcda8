import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

/** Tests run from dist/test/…; fixtures and config live in the source tree. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
export const repoPath = (...parts: string[]): string => join(repoRoot, ...parts)
