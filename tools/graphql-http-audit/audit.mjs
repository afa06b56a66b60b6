#!/usr/bin/env node
// GraphQL-over-HTTP conformance audit of a running server, using graphql-http's
// own server audits.
//
// Usage:
//   node audit.mjs URL [--headers JSON]
//   e.g. node audit.mjs http://127.0.0.1:8080/graphql \
//          --headers '{"Authorization":"Bearer <jwt>"}'
//
// Output: one line per audit result
//   PASS  <id>  <name>
//   WARN  <id>  <name>      (a SHOULD that failed)
//   FAIL  <id>  <name>      (a MUST that failed)
//   NOTE  <id>  <name>      (a MAY that failed; never blocks)
// every non-passing line is followed by indented lines with the reason, the
// response status and a short excerpt of the body; then the summary line
//   audit: N passed, M failed
// where N counts passing audits and M counts the blocking failures.
//
// Exit status: 1 if any MUST failed, or any SHOULD failed whose id is not
// listed in allowed-should.txt (beside this script; override the path with env
// AUDIT_ALLOWED_SHOULD); 1 also on bad usage or when the server cannot be
// reached at all; 0 otherwise.
//
// Result status values, as set in graphql-http 1.23.1 lib/audits/utils.mjs:
// 'ok' for a pass; on failure 'error' for names starting with MUST, 'warn' for
// SHOULD, 'notice' for everything else (MAY).

import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { auditServer } from 'graphql-http';

const HERE = dirname(fileURLToPath(import.meta.url));
const REQUEST_TIMEOUT_MS = 15_000;
const BODY_EXCERPT_CHARS = 300;

function usage(msg) {
  if (msg) console.error(`audit: ${msg}`);
  console.error('usage: node audit.mjs URL [--headers JSON]');
  process.exit(1);
}

function parseArgs(argv) {
  let url;
  let headers = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    let json;
    if (a === '--headers') {
      if (i + 1 >= argv.length) usage('--headers needs a JSON object');
      json = argv[++i];
    } else if (a.startsWith('--headers=')) {
      json = a.slice('--headers='.length);
    } else if (a === '-h' || a === '--help') {
      usage();
    } else if (a.startsWith('--')) {
      usage(`unknown option ${a}`);
    } else if (url === undefined) {
      url = a;
    } else {
      usage(`unexpected argument ${a}`);
    }
    if (json !== undefined) {
      let parsed;
      try {
        parsed = JSON.parse(json);
      } catch (e) {
        usage(`--headers is not valid JSON: ${e.message}`);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        usage('--headers must be a JSON object, e.g. {"Authorization":"Bearer <jwt>"}');
      }
      for (const [k, v] of Object.entries(parsed)) {
        if (typeof v !== 'string') usage(`--headers value for "${k}" must be a string`);
      }
      headers = { ...headers, ...parsed };
    }
  }
  if (!url) usage('missing URL');
  try {
    new URL(url);
  } catch {
    usage(`not a valid URL: ${url}`);
  }
  return { url, headers };
}

// Allow-list of SHOULD audit ids: one id per line, '#' starts a comment.
function readAllowList(path) {
  const ids = new Set();
  if (!existsSync(path)) return ids;
  for (const raw of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const line = raw.replace(/#.*/, '').trim();
    if (line) ids.add(line);
  }
  return ids;
}

// Wrap fetch: add the extra headers to every request (headers the audit sets
// itself win, so an audit is never changed by them) and bound each request.
function makeFetch(extraHeaders) {
  const extra = Object.entries(extraHeaders);
  return async (input, init = {}) => {
    const headers = new Headers(init.headers);
    for (const [k, v] of extra) {
      if (!headers.has(k)) headers.set(k, v);
    }
    return fetch(input, {
      ...init,
      headers,
      signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  };
}

async function bodyExcerpt(res) {
  if (!res || typeof res.text !== 'function') return '(no response)';
  if (res.bodyUsed) return '(body already read by the audit)';
  try {
    const text = await res.text();
    if (text === '') return '(empty body)';
    const oneLine = text.replace(/\s+/g, ' ').trim();
    return oneLine.length > BODY_EXCERPT_CHARS
      ? `${oneLine.slice(0, BODY_EXCERPT_CHARS)}... (${text.length} chars)`
      : oneLine;
  } catch (e) {
    return `(body unreadable: ${e.message})`;
  }
}

async function main() {
  const { url, headers } = parseArgs(process.argv.slice(2));
  const allowPath = process.env.AUDIT_ALLOWED_SHOULD || join(HERE, 'allowed-should.txt');
  const allowed = readAllowList(allowPath);

  let results;
  try {
    results = await auditServer({ url, fetchFn: makeFetch(headers) });
  } catch (e) {
    // graphql-http throws only on fatal problems (e.g. connection refused).
    const cause = e?.cause ? ` (${e.cause.code || e.cause.message || e.cause})` : '';
    console.error(`audit: FATAL: could not audit ${url}: ${e?.message || e}${cause}`);
    console.log('audit: 0 passed, 1 failed');
    process.exit(1);
  }

  let passed = 0;
  let blocking = 0;
  let allowedWarns = 0;
  let notices = 0;
  const seenIds = new Set();

  for (const r of results) {
    seenIds.add(r.id);
    if (r.status === 'ok') {
      passed++;
      console.log(`PASS  ${r.id}  ${r.name}`);
      continue;
    }
    let label;
    let verdict;
    if (r.status === 'error') {
      label = 'FAIL';
      verdict = 'MUST failed: blocks';
      blocking++;
    } else if (r.status === 'warn') {
      label = 'WARN';
      if (allowed.has(r.id)) {
        verdict = `SHOULD failed: allowed by ${allowPath}`;
        allowedWarns++;
      } else {
        verdict = 'SHOULD failed and its id is not in allowed-should.txt: blocks';
        blocking++;
      }
    } else {
      // 'notice': a MAY; informational only.
      label = 'NOTE';
      verdict = 'MAY failed: informational';
      notices++;
    }
    console.log(`${label}  ${r.id}  ${r.name}`);
    console.log(`      reason: ${r.reason}`);
    console.log(`      status: ${r.response?.status ?? '(none)'}`);
    console.log(`      body:   ${await bodyExcerpt(r.response)}`);
    console.log(`      => ${verdict}`);
  }

  for (const id of allowed) {
    const r = results.find((x) => x.id === id);
    if (!r) {
      console.log(`note: allowed-should.txt lists ${id}, which is not an audit of graphql-http`);
    } else if (r.status === 'ok') {
      console.log(`note: allowed-should.txt lists ${id}, which now passes; remove it`);
    } else if (r.status === 'error') {
      console.log(`note: allowed-should.txt lists ${id}, a MUST; MUST failures cannot be allowed`);
    }
  }

  console.log(
    `details: ${results.length} audits: ${passed} ok, ${blocking} blocking, ` +
      `${allowedWarns} allowed SHOULD warnings, ${notices} MAY notices`,
  );
  console.log(`audit: ${passed} passed, ${blocking} failed`);
  process.exit(blocking > 0 ? 1 : 0);
}

main().catch((e) => {
  console.error(`audit: FATAL: ${e?.stack || e}`);
  process.exit(1);
});
