/**
 * Writes docs/errors.md from src/core/known-errors.ts (`npm run docs:errors`); with --check, fails
 * when the file is out of date instead.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { errorsMarkdown } from '../src/core/known-errors.js';

const path = new URL('../docs/errors.md', import.meta.url);
const text = errorsMarkdown();
if (process.argv.includes('--check')) {
  if (readFileSync(path, 'utf8') !== text) {
    console.error('docs/errors.md is out of date: run npm run docs:errors');
    process.exit(1);
  }
} else writeFileSync(path, text);
