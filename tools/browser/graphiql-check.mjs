#!/usr/bin/env node
// End-to-end check of the gateway's GraphiQL page in headless Chromium, the
// way a person uses it: open /graphiql?token=<jwt>, type a query into the
// editor, press the run button, read the result pane.
//
// Usage:
//   node graphiql-check.mjs BASE_URL TOKEN
//   node graphiql-check.mjs BASE_URL -      (no token: the query must come back UNAUTHENTICATED,
//                                            and the schema fetch must not fail)
//   e.g. node graphiql-check.mjs http://127.0.0.1:8080 "$JWT"
//
// Env:
//   CHROMIUM    Chromium binary (default /usr/bin/chromium; see
//               scripts/ensure-chromium.sh). playwright-core never downloads one.
//   SCREENSHOT  if set, a PNG of the page is written there (on success and on
//               failure alike).
//
// Exit 0 only if: the result pane shows a result containing "meetingUrl" and no
// "errors"; the page attempted no request to a host other than 127.0.0.1,
// localhost or [::1] (such requests are aborted and reported); and the page
// threw no uncaught error (playwright 'pageerror'). Exit 1 otherwise, with the
// reasons printed. The whole check is bounded to about 30 seconds.
//
// DOM this relies on (GraphiQL 3.x, CodeMirror 5 editors):
//   query editor  .graphiql-query-editor .CodeMirror
//   run button    button.graphiql-execute-button
//   result pane   section.result-window  (its .CodeMirror holds the JSON)

import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const TOTAL_MS = 30_000;
const QUERY = '{ userSessions(userIdentifier: "me") { name meetingUrl } }';
const SEL = {
  queryEditor: '.graphiql-query-editor .CodeMirror',
  runButton: 'button.graphiql-execute-button',
  resultPane: 'section.result-window',
};
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const started = Date.now();
const remaining = () => Math.max(1, TOTAL_MS - (Date.now() - started));
const log = (msg) => console.log(`graphiql-check: ${msg}`);

function usage(msg) {
  if (msg) console.error(`graphiql-check: ${msg}`);
  console.error('usage: node graphiql-check.mjs BASE_URL TOKEN');
  process.exit(1);
}

const [baseArg, token, ...extra] = process.argv.slice(2);
if (!baseArg || !token || extra.length) usage('need exactly BASE_URL and TOKEN');
let base;
try {
  base = new URL(baseArg);
} catch {
  usage(`not a valid URL: ${baseArg}`);
}
if (!['http:', 'https:'].includes(base.protocol)) usage(`BASE_URL must be http(s): ${baseArg}`);
if (!LOOPBACK_HOSTS.has(base.hostname)) {
  usage(`BASE_URL must be on loopback (127.0.0.1, localhost or [::1]); got ${base.hostname}`);
}
const baseUrl = baseArg.replace(/\/+$/, '');
const anonymous = token === '-';
const pageUrl = anonymous ? `${baseUrl}/graphiql` : `${baseUrl}/graphiql?token=${encodeURIComponent(token)}`;
// Keep the JWT out of the output (short throwaway tokens are left alone, as
// replacing them would mangle unrelated text).
const redact = (s) =>
  anonymous || token.length < 8
    ? String(s)
    : String(s).split(encodeURIComponent(token)).join('<token>').split(token).join('<token>');

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  console.error(
    `graphiql-check: FAIL: no Chromium at ${executablePath} ` +
      '(run scripts/ensure-chromium.sh, or set CHROMIUM to its path)',
  );
  process.exit(1);
}

const failures = [];
const blocked = [];
const pageErrors = [];
const consoleErrors = [];
const httpErrors = [];
let browser;

// Hard stop in case closing the browser itself hangs.
const watchdog = setTimeout(() => {
  console.error(`graphiql-check: FAIL: watchdog: still running after ${TOTAL_MS + 15_000} ms`);
  process.exit(1);
}, TOTAL_MS + 15_000);
watchdog.unref();

function isLoopback(urlString) {
  let u;
  try {
    u = new URL(urlString);
  } catch {
    return false;
  }
  // data:, blob: and about: never leave the machine.
  if (['data:', 'blob:', 'about:'].includes(u.protocol)) return true;
  return LOOPBACK_HOSTS.has(u.hostname);
}

async function readResult(page) {
  // CodeMirror 5 keeps its instance on the wrapper element; its value is the
  // full text even when lines are scrolled out of view (the DOM shows only the
  // visible lines). Fall back to the pane's text.
  return page.evaluate((sel) => {
    const pane = document.querySelector(sel);
    if (!pane) return null;
    const cm = pane.querySelector('.CodeMirror');
    if (cm && cm.CodeMirror) return cm.CodeMirror.getValue();
    return pane.innerText;
  }, SEL.resultPane);
}

async function run() {
  browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: remaining() });
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    serviceWorkers: 'block',
  });

  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isLoopback(url)) return route.continue();
    blocked.push(`${route.request().method()} ${redact(url)}`);
    return route.abort('blockedbyclient');
  });
  await context.routeWebSocket(/.*/, (ws) => {
    if (isLoopback(ws.url().replace(/^ws/, 'http'))) return ws.connectToServer();
    blocked.push(`WEBSOCKET ${redact(ws.url())}`);
    return ws.close();
  });

  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err?.stack || String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('response', (res) => {
    if (res.status() >= 400) httpErrors.push(`${res.status()} ${res.request().method()} ${redact(res.url())}`);
  });

  log(`opening ${redact(pageUrl)} with ${executablePath}`);
  const resp = await page.goto(pageUrl, { waitUntil: 'domcontentloaded', timeout: remaining() });
  if (!resp || !resp.ok()) {
    throw new Error(`GET /graphiql answered ${resp ? resp.status() : 'nothing'}`);
  }

  try {
    await page.locator(SEL.queryEditor).first().waitFor({ state: 'visible', timeout: remaining() });
  } catch (e) {
    throw new Error(`GraphiQL query editor (${SEL.queryEditor}) never appeared: ${e.message.split('\n')[0]}`);
  }
  log('GraphiQL editor is up');

  // Replace the editor content the way a person would.
  const editor = page.locator(SEL.queryEditor).first();
  await editor.click({ timeout: remaining() });
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(QUERY, { delay: 5 });
  await page.keyboard.press('Escape'); // close any autocomplete popup
  const typed = await page.evaluate(
    (sel) => document.querySelector(sel)?.CodeMirror?.getValue() ?? null,
    SEL.queryEditor,
  );
  if (typed !== null && typed.replace(/\s+/g, ' ').trim() !== QUERY) {
    throw new Error(`query editor holds ${JSON.stringify(typed)} after typing, not ${JSON.stringify(QUERY)}`);
  }
  log(`typed query: ${QUERY}`);
  // GraphiQL re-reads the operation name from the editor after a short debounce; a person
  // pauses before clicking run, and so do we, or the old operation name is sent.
  await page.waitForTimeout(1000);

  try {
    await page.locator(SEL.runButton).first().click({ timeout: remaining() });
  } catch (e) {
    throw new Error(`run button (${SEL.runButton}) not clickable: ${e.message.split('\n')[0]}`);
  }

  // Wait for a result: the expected one, or an error answer (to fail fast).
  try {
    await page.waitForFunction(
      (sel) => {
        const pane = document.querySelector(sel);
        if (!pane) return false;
        const cm = pane.querySelector('.CodeMirror');
        const text = cm && cm.CodeMirror ? cm.CodeMirror.getValue() : pane.innerText;
        return text.includes('"userSessions"') || text.includes('"errors"');
      },
      SEL.resultPane,
      { timeout: remaining(), polling: 100 },
    );
  } catch (e) {
    const partial = await readResult(page).catch(() => null);
    throw new Error(
      `result pane (${SEL.resultPane}) never showed "userSessions": ${e.message.split('\n')[0]}` +
        (partial ? `; it shows: ${partial.slice(0, 500)}` : ''),
    );
  }

  const result = await readResult(page);
  console.log('--- result pane ---');
  console.log(result);
  console.log('-------------------');
  if (anonymous) {
    if (!result.includes('"UNAUTHENTICATED"')) failures.push('an anonymous query did not come back UNAUTHENTICATED');
    if (!/"userSessions":\s*null/.test(result)) failures.push('an anonymous query did not null userSessions');
    if (result.includes('"meetingUrl"')) failures.push('an anonymous query got session data');
  } else {
    if (!result.includes('"meetingUrl"')) failures.push('result has no "meetingUrl"');
    if (result.includes('"errors"')) failures.push('result contains "errors"');
  }
  return page;
}

let page;
try {
  page = await run();
} catch (e) {
  // Playwright appends a multi-line call log; the first line says what failed.
  failures.push(String(e?.message || e).split('\n')[0]);
}

if (process.env.SCREENSHOT) {
  try {
    const p = page || browser?.contexts()[0]?.pages()[0];
    if (p) {
      await p.screenshot({ path: process.env.SCREENSHOT, timeout: 10_000 });
      log(`screenshot: ${process.env.SCREENSHOT}`);
    } else {
      log('no page to take a screenshot of');
    }
  } catch (e) {
    log(`screenshot failed: ${e.message.split('\n')[0]}`);
  }
}

await browser?.close().catch(() => {});

if (blocked.length) {
  failures.push(`the page tried ${blocked.length} request(s) to non-loopback hosts (aborted)`);
  for (const b of blocked) console.log(`  blocked: ${b}`);
}
if (pageErrors.length) {
  failures.push(`${pageErrors.length} uncaught page error(s)`);
  for (const e of pageErrors) console.log(`  pageerror: ${redact(e)}`);
}
// Without a token, nothing may be refused: GraphiQL's schema fetch must succeed anonymously.
if (anonymous && httpErrors.some((e) => e.includes('/graphql'))) {
  failures.push('a request to /graphql failed while no token was given');
}
// Diagnostics only: these do not fail the check by themselves.
for (const e of httpErrors) console.log(`  http error: ${e}`);
for (const e of consoleErrors) console.log(`  console error: ${redact(e)}`);

const secs = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length) {
  for (const f of failures) console.log(`graphiql-check: FAIL: ${redact(f)}`);
  console.log(`graphiql-check: FAILED in ${secs}s`);
  process.exit(1);
}
log(`OK in ${secs}s: result has "meetingUrl", no "errors", no external requests, no page errors`);
process.exit(0);
