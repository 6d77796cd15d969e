#!/usr/bin/env node
// Entry point of the `sid` command: registers the TypeScript loader, then runs lib/cli/main.ts.
import { register } from 'tsx/esm/api';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as path from 'node:path';

register();
const here = path.dirname(fileURLToPath(import.meta.url));
process.env.SID_ROOT ??= path.resolve(here, '..');
const { main } = await import(pathToFileURL(path.join(here, '..', 'lib', 'cli', 'main.ts')).href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
