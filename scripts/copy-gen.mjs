#!/usr/bin/env node
// tsc does not copy the generated protobufjs code (plain .js + .d.ts): copy it into dist.
import { cpSync } from 'node:fs';
cpSync('src/proto/gen', 'dist/proto/gen', { recursive: true });
