// options-table.js: the option table the server serves at GET /api/v1/options, read from
// `sluice options --json` (the same rows), so that the UI's unit tests check the forms
// against what the server parses with, never against a copy. ctest (ui.unit) sets
// SLUICE_BIN; by hand: SLUICE_BIN=build/sluice node --test tests/ui/unit/
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export function optionTables() {
  const bin = process.env.SLUICE_BIN || path.join(here, '../../../build/sluice');
  if (!fs.existsSync(bin)) throw new Error(`no sluice binary at ${bin}: build it, or set SLUICE_BIN`);
  return JSON.parse(execFileSync(bin, ['options', '--json'], { encoding: 'utf8' }));
}

// The `options` array: the spec's options.
export const specOptions = () => optionTables().options;
