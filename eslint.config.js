import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/** The core in src/ is framework-free: Fastify and the plugins that wire it in live in plugins/. */
export const coreBoundary = {
  files: ['src/**/*.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          { group: ['fastify', 'fastify-*', '@fastify/*'], message: 'src/ never imports Fastify: wire the core in from plugins/.' },
          { group: ['**/plugins/*', '**/plugins'], message: 'src/ never imports plugins/: the dependency points the other way.' },
        ],
      },
    ],
  },
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tap/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      eqeqeq: ['error', 'smart'],
      'no-console': 'off',
    },
  },
  coreBoundary,
)
