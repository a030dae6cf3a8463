// The bookshelf example in headless Chromium: `stratus start <copy of examples/bookshelf>
// --in-memory` on free loopback ports, Debian's /usr/bin/chromium driven by playwright-core; the
// page adds a book through the form, sees it in the table, edits it, deletes it, and shows the
// visit counter. Run with tests/browser/run.sh (installs Chromium and playwright-core if missing).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const STRATUS = process.env.STRATUS_BIN || path.join(REPO, "target", "debug", "stratus");
const CHROMIUM = "/usr/bin/chromium";
const READY_TIMEOUT_MS = 30_000;
// The page's first requests start the Python functions (and may install boto3 on a fresh machine).
const FIRST_LOAD_TIMEOUT_MS = 120_000;
const STEP_TIMEOUT_MS = 20_000;

let workDir;
let server;
let serverOutput = "";
let context;
let page;
let base;

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function startStratus(appDir, awsPort, apiPort) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      STRATUS,
      ["start", appDir, "--host", "127.0.0.1", "--aws-port", String(awsPort), "--api-port", String(apiPort), "--in-memory"],
      { stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    const timer = setTimeout(() => {
      reject(new Error(`stratus start did not print "Stratus ready" within ${READY_TIMEOUT_MS} ms:\n${serverOutput}`));
    }, READY_TIMEOUT_MS);
    const collect = (chunk) => {
      serverOutput += chunk.toString();
      if (serverOutput.includes("Stratus ready")) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`stratus start exited with code ${code} before it was ready:\n${serverOutput}`));
    });
    server = child;
  });
}

// SIGTERM to the server's PID, then SIGKILL to its process group (its own session) if it lingers.
async function stopStratus() {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once("exit", resolve));
  server.kill("SIGTERM");
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve("timeout"), 10_000);
  });
  const outcome = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    try {
      process.kill(-server.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

async function api(method, urlPath) {
  const response = await fetch(`${base}${urlPath}`, { method, signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

function row(title) {
  return page.locator("#books tr").filter({ has: page.locator("td:first-child", { hasText: new RegExp(`^${title}$`) }) });
}

async function cells(locator) {
  return (await locator.locator("td").allTextContents()).slice(0, 3);
}

before(async () => {
  assert.ok(existsSync(STRATUS), `the Stratus binary is missing: ${STRATUS} (cargo build, or set STRATUS_BIN)`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium; tests/browser/run.sh does it)`);
  workDir = mkdtempSync(path.join(tmpdir(), "stratus-browser-"));
  const appDir = path.join(workDir, "bookshelf");
  cpSync(path.join(REPO, "examples", "bookshelf"), appDir, {
    recursive: true,
    filter: (source) => !/[\\/](\.stratus|__pycache__)([\\/]|$)/.test(source),
  });
  const awsPort = await freePort();
  let apiPort = await freePort();
  while (apiPort === awsPort) apiPort = await freePort();
  base = `http://127.0.0.1:${apiPort}`;
  await startStratus(appDir, awsPort, apiPort);
  context = await chromium.launchPersistentContext(path.join(workDir, "chromium-profile"), {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
});

after(async () => {
  try {
    if (context) await context.close();
  } finally {
    await stopStratus();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  }
});

test("the bookshelf page adds, lists, edits and deletes a book and counts visits", { timeout: 240_000 }, async () => {
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));

  await page.goto(`${base}/`, { timeout: FIRST_LOAD_TIMEOUT_MS });
  assert.equal(await page.title(), "Bookshelf");
  const visits = page.locator("#visits");
  await page.waitForFunction(() => /^Visit number \d+$/.test(document.getElementById("visits").textContent), null, {
    timeout: FIRST_LOAD_TIMEOUT_MS,
  });
  const firstVisit = Number((await visits.textContent()).match(/\d+/)[0]);
  assert.ok(firstVisit >= 1, `visit counter: ${await visits.textContent()}`);
  await page.locator("#empty").waitFor({ state: "visible", timeout: FIRST_LOAD_TIMEOUT_MS });

  // Add a book through the form.
  await page.fill("#title", "Dune");
  await page.fill("#author", "Frank Herbert");
  await page.fill("#year", "1965");
  await page.click("#save");
  const added = row("Dune");
  await added.waitFor({ state: "visible" });
  assert.deepEqual(await cells(added), ["Dune", "Frank Herbert", "1965"]);
  assert.equal(await page.locator("#empty").isHidden(), true);
  assert.equal(await page.textContent("#error"), "");
  const listed = await api("GET", "/books");
  assert.equal(listed.status, 200);
  assert.equal(listed.body.books.length, 1);
  assert.equal(listed.body.books[0].title, "Dune");
  const bookId = listed.body.books[0].id;
  assert.equal(await added.getAttribute("data-id"), bookId);

  // Edit it.
  await added.locator("button", { hasText: "Edit" }).click();
  assert.equal(await page.inputValue("#title"), "Dune");
  assert.equal(await page.inputValue("#book-id"), bookId);
  assert.equal(await page.textContent("#save"), "Save changes");
  await page.fill("#title", "Dune Messiah");
  await page.fill("#year", "1969");
  await page.click("#save");
  const edited = row("Dune Messiah");
  await edited.waitFor({ state: "visible" });
  assert.deepEqual(await cells(edited), ["Dune Messiah", "Frank Herbert", "1969"]);
  assert.equal(await row("Dune").count(), 0);
  assert.equal(await page.textContent("#save"), "Add book");
  const stored = await api("GET", `/books/${bookId}`);
  assert.equal(stored.status, 200);
  assert.equal(stored.body.title, "Dune Messiah");
  assert.equal(stored.body.year, 1969);

  // Delete it.
  await edited.locator("button", { hasText: "Delete" }).click();
  await edited.waitFor({ state: "detached" });
  await page.locator("#empty").waitFor({ state: "visible" });
  assert.equal((await api("GET", `/books/${bookId}`)).status, 404);
  assert.deepEqual((await api("GET", "/books")).body, { books: [] });

  // Each page load is a visit.
  await page.reload();
  await page.waitForFunction(
    (expected) => document.getElementById("visits").textContent === `Visit number ${expected}`,
    firstVisit + 1,
  );
  assert.deepEqual(pageErrors, [], `errors on the page: ${pageErrors.join("; ")}`);
});
