#!/usr/bin/env node
// Command-line access to the event-pattern engine: match NDJSON records, or validate a pattern file.
// The engine is TypeScript source; tsx (a root devDependency) loads it in place.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { register } from 'tsx/esm/api';

const USAGE = `Usage:
  orderflow-pattern match [--dialect eventbridge|pipes]
      Reads NDJSON lines {"pattern":{...},"event":{...}} on stdin and writes one line per input line:
      {"match":true|false}, or {"error":{"path":"...","message":"..."}}. Blank lines are skipped.
  orderflow-pattern validate [--dialect eventbridge|pipes] FILE
      Validates the pattern in FILE: prints {"valid":true} (exit 0) or {"error":{...}} (exit 1).
  orderflow-pattern --help
`;

function usage() {
  process.stderr.write(USAGE);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { dialect: { type: 'string', default: 'eventbridge' }, help: { type: 'boolean' } },
  });
} catch {
  usage();
}
const { values, positionals } = parsed;
const [command, ...operands] = positionals;
const dialect = values.dialect;
if (values.help || (dialect !== 'eventbridge' && dialect !== 'pipes')) usage();

register();
const { compilePattern, PatternValidationError, validatePattern } = await import('../src/patterns/index.ts');

/** The error line for a failure: validation errors keep their JSON path, anything else points at the line. */
function errorOf(error, path = '$') {
  if (error instanceof PatternValidationError) return { error: { path: error.path, message: error.message } };
  return { error: { path, message: error instanceof Error ? error.message : String(error) } };
}

function matchLine(line, compiled) {
  let record;
  try {
    record = JSON.parse(line);
  } catch (error) {
    return errorOf(new Error(`line is not valid JSON: ${error.message}`));
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    return errorOf(new Error('line must be a JSON object with "pattern" and "event"'));
  }
  for (const key of ['pattern', 'event']) {
    if (!(key in record)) return errorOf(new Error(`missing "${key}"`), `$.${key}`);
  }
  try {
    // Lines often repeat a pattern: compile each distinct one once.
    const key = JSON.stringify(record.pattern);
    let pattern = compiled.get(key);
    if (!pattern) {
      pattern = compilePattern(record.pattern, dialect);
      compiled.set(key, pattern);
    }
    return { match: pattern.matches(record.event) };
  } catch (error) {
    return errorOf(error);
  }
}

async function match() {
  const compiled = new Map();
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    if (!process.stdout.write(`${JSON.stringify(matchLine(line, compiled))}\n`)) {
      await new Promise((resolve) => process.stdout.once('drain', resolve));
    }
  }
}

function validate(file) {
  let pattern;
  try {
    pattern = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    process.stdout.write(`${JSON.stringify(errorOf(error))}\n`);
    process.exit(1);
  }
  try {
    validatePattern(pattern, dialect);
    process.stdout.write(`${JSON.stringify({ valid: true })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify(errorOf(error))}\n`);
    process.exit(1);
  }
}

if (command === 'match' && operands.length === 0) await match();
else if (command === 'validate' && operands.length === 1) validate(operands[0]);
else usage();
