import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import type { StatusReply } from "../../src/control/status-reply.js";
import { freeUdpPorts, LocalCluster } from "../../src/demo/local-cluster.js";
import type { ClusterState } from "../../src/state/types.js";
import { apiRequest } from "../support/http.js";
import { enableApi, OPERATE_TOKEN, READ_TOKEN } from "../support/local-api.js";
import { applyEchoService, stopProbedCluster } from "../support/local-takeover.js";
import { waitFor } from "../support/wait.js";

/** Debian's chromium package (.ci/run installs it); playwright-core downloads no browser. */
const CHROMIUM = "/usr/bin/chromium";
/** The page follows the agent's stream: once the agent knows, the page shows it within this. */
const PAGE_FOLLOWS_MS = 2000;
/**
 * README's picture: refreshed with VIGIL_DASHBOARD_SCREENSHOT=1; otherwise the shot goes to the
 * temporary directory, so a test run leaves the checkout as it was.
 */
const SCREENSHOT =
  process.env.VIGIL_DASHBOARD_SCREENSHOT === "1"
    ? "docs/dashboard.png"
    : join(tmpdir(), `vigil-dashboard-${process.pid}.png`);

/**
 * The dashboard in a real browser against three real agents on loopback, the compiled ones (the
 * dashboard's files must be found from dist/ too): it shows the cluster, follows a node's death
 * and its resource's move without a reload, operates with an operate token, and not with a read
 * token.
 */
describe("the live dashboard in Chromium", () => {
  let dir: string;
  let cluster: LocalCluster;
  let urls: Map<string, string>;
  let browser: Browser;
  let page: Page;
  /** Uncaught exceptions in the pages' scripts: the page must have none. */
  const pageErrors: string[] = [];
  /** The node running the echo service, killed below; the page watches another one. */
  let victim: string;
  let viewer: string;
  let third: string;

  const apiGet = async <T>(node: string, path: string): Promise<T> => {
    const reply = await apiRequest(`${urls.get(node)}${path}`, { token: READ_TOKEN });
    assert.equal(reply.status, 200, reply.text);
    return reply.json as T;
  };
  const runningOn = (state: ClusterState, resource: string) =>
    Object.entries(state.resources[resource] ?? {})
      .filter(([, cell]) => cell.active !== undefined)
      .map(([node]) => node);

  const signIn = async (token: string) => {
    await page.fill("#token", token);
    await page.click("#sign-in button[type=submit]");
    await page.waitForSelector("#dashboard:not([hidden])");
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-dashboard-"));
    // The browser is the observer, the agents are what is tested: on a two-core machine
    // Chromium's start and rendering must not starve a leader past its lease (its guard would
    // rightly kill it). So Chromium starts first, on one core only, at a lower priority, and
    // one page does everything (a new page is a new renderer process).
    const lastCpu = availableParallelism() - 1;
    const quietChromium = join(dir, "chromium");
    await writeFile(
      quietChromium,
      `#!/bin/sh\nexec taskset -c ${lastCpu} nice -n 10 ${CHROMIUM} "$@"\n`,
      { mode: 0o755 },
    );
    browser = await chromium.launch({ executablePath: quietChromium, args: ["--no-sandbox"] });
    page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    page.on("pageerror", (error) => pageErrors.push(error.stack ?? error.message));
    cluster = await LocalCluster.create({ nodes: 3, dir, profile: "default", built: true });
    urls = await enableApi(cluster, dir);
    for (const name of cluster.names) await cluster.start(name);
    await waitFor("every node to have probed", async () => {
      const state = await apiGet<ClusterState>("alpha", "/v1/state");
      return cluster.names.every((name) => state.agents[name] !== undefined) ? true : undefined;
    });
    const [port] = (await freeUdpPorts(1)) as [number];
    const applied = await applyEchoService(dir, port, cluster.socketPath("alpha"));
    assert.equal(applied.code, 0, applied.stderr);
    victim = await waitFor("echo to run", async () =>
      runningOn(await apiGet<ClusterState>("alpha", "/v1/state"), "echo").at(0),
    );
    [viewer, third] = cluster.names.filter((name) => name !== victim) as [string, string];
  });

  after(async () => {
    await browser?.close();
    await stopProbedCluster(dir, cluster);
    if (SCREENSHOT.startsWith(tmpdir())) await rm(SCREENSHOT, { force: true });
  });

  test("the files come without a token, the data only with one", async () => {
    const index = await apiRequest(`${urls.get(viewer)}/`);
    assert.equal(index.status, 200);
    assert.match(String(index.headers["content-type"]), /^text\/html/);
    assert.match(String(index.headers["content-security-policy"]), /frame-ancestors 'none'/);
    const script = await apiRequest(`${urls.get(viewer)}/js/main.js`);
    assert.equal(script.status, 200);
    assert.match(String(script.headers["content-type"]), /^text\/javascript/);
    assert.equal((await apiRequest(`${urls.get(viewer)}/v1/stream`)).status, 401);
    assert.equal((await apiRequest(`${urls.get(viewer)}/v1/whoami`)).status, 401);
  });

  test("with an operate token: three nodes up, every peer × link, where echo runs", async () => {
    await page.goto(`${urls.get(viewer)}/`);
    await signIn(OPERATE_TOKEN);
    await page.locator('[data-node][data-state="up"]').nth(2).waitFor();
    assert.equal(await page.locator("[data-node]").count(), 3);
    await page.waitForSelector(`[data-resource="echo"][data-active-on="${victim}"]`);
    // From the viewer: two peers, two links each.
    await page.locator('[data-peer-link][data-state="up"]').nth(3).waitFor();
    assert.equal(await page.locator("[data-peer-link]").count(), 4);
    assert.equal(await page.textContent("#who"), "ops (operate)");
    assert.equal(await page.getAttribute("#connection", "data-connection"), "live");
  });

  test("the what-if panel plans echo's start elsewhere if its node fails, changing nothing", async () => {
    await page.selectOption('#what-if select[name="change"]', "fail");
    await page.selectOption('#what-if select[name="node"]', victim);
    await page.click('#what-if button[type="submit"]');
    const planned = page.locator('#what-if li[data-action^="start echo@"]');
    await planned.waitFor({ timeout: PAGE_FOLLOWS_MS });
    const then = await page.getAttribute(
      '#what-if tr[data-what-if-resource="echo"]',
      "data-then-on",
    );
    assert.ok(then !== null && then !== "" && then !== victim, `echo then on "${then}"`);
    assert.equal(await planned.getAttribute("data-action"), `start echo@${then}`);
    assert.match((await page.textContent("#what-if h3")) ?? "", new RegExp(`If ${victim} fails`));
    assert.deepEqual(runningOn(await apiGet<ClusterState>(viewer, "/v1/state"), "echo"), [victim]);
  });

  test("a killed node shows dead, and echo on its new node, without a reload", async () => {
    // The page's own script cannot eval text (its CSP): a function is sent instead.
    await page.evaluate(() => {
      (globalThis as { sameDocument?: boolean }).sameDocument = true;
    });
    await cluster.signal(victim, "SIGKILL");
    const movedTo = await waitFor(
      "the viewer to see the victim dead and echo running elsewhere",
      async () => {
        const status = await apiGet<StatusReply>(viewer, "/v1/status");
        const dead = status.nodes.find((node) => node.name === victim)?.state === "dead";
        const cells = status.resources?.state.echo ?? {};
        const now = Object.keys(cells).find((node) => cells[node]?.active !== undefined);
        return dead && now !== undefined && now !== victim ? now : undefined;
      },
      { timeoutMs: 30_000 },
    ).catch(async (error: Error) => {
      const status = await apiGet<StatusReply>(viewer, "/v1/status");
      throw new Error(
        `${error.message}: ${viewer} sees ${JSON.stringify(status.nodes.map((n) => [n.name, n.state]))}, echo ${JSON.stringify(status.resources?.state.echo)}, leader ${JSON.stringify(status.resources?.leader)}`,
      );
    });
    await page.waitForSelector(`[data-node="${victim}"][data-state="dead"]`, {
      timeout: PAGE_FOLLOWS_MS,
    });
    await page.waitForSelector(`[data-resource="echo"][data-active-on="${movedTo}"]`, {
      timeout: PAGE_FOLLOWS_MS,
    });
    await page.waitForSelector(`[data-peer-link^="${victim}/"][data-state="down"]`, {
      timeout: PAGE_FOLLOWS_MS,
    });
    assert.equal(
      await page.evaluate(() => (globalThis as { sameDocument?: boolean }).sameDocument),
      true,
      "the page was not reloaded",
    );
  });

  test("a standby asked from the page, confirmed in its dialog, commits", async () => {
    await page.click(`[data-node="${third}"] button[data-op="standby"]`);
    await page.waitForSelector("#confirm[open]");
    assert.match((await page.textContent("#confirm .question")) ?? "", new RegExp(third));
    await page.click('#confirm button[value="confirm"]');
    for (const name of [viewer, third]) {
      await waitFor(`${name} to apply ${third}'s standby`, async () =>
        (await apiGet<ClusterState>(name, "/v1/state")).nodes[third]?.standby === true
          ? true
          : undefined,
      );
    }
    await page.waitForSelector(`[data-node="${third}"] [data-standby]`, {
      timeout: PAGE_FOLLOWS_MS,
    });
    const history = (await apiGet<ClusterState>(viewer, "/v1/state")).history;
    assert.equal(history.at(-1)?.by, "dashboard:ops");
    await page.waitForSelector("#toast.shown");
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  test("signed out, then in with a read token: operations disabled, a POST refused (403)", async () => {
    await page.click("#sign-out");
    await page.waitForSelector("#sign-in:not([hidden])");
    const stored = await page.evaluate(
      () => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length,
    );
    assert.equal(stored, 0, "signing out forgets the token");
    await signIn(READ_TOKEN);
    await page.waitForSelector("#who[data-role=read]");
    await page.waitForSelector('[data-resource="echo"]');
    const buttons = await page.locator("button[data-op]").count();
    assert.ok(buttons >= 5, `operation buttons shown: ${buttons}`);
    assert.equal(
      await page.locator("button[data-op]:disabled").count(),
      buttons,
      "every operation is disabled for a read token",
    );
    assert.equal(await page.textContent("#who"), "prometheus (read)");
    const refused = await page.evaluate(async (token) => {
      const response = await fetch("/v1/runtime", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ type: "maintenance", on: true, by: "reader" }),
      });
      return { status: response.status, body: (await response.json()) as { error: string } };
    }, READ_TOKEN);
    assert.equal(refused.status, 403);
    assert.match(refused.body.error, /role read/);
    assert.notEqual((await apiGet<ClusterState>(viewer, "/v1/state")).maintenance, true);
  });

  test("no page met an uncaught exception", () => {
    assert.deepEqual(pageErrors, []);
  });
});
