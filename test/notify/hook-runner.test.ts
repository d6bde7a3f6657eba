import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type HookDelivery, realHookDelivery } from "../../src/notify/hook-runner.js";
import { ChildProcessRunner } from "../../src/resources/executor/process-runner.js";

const deliver = realHookDelivery(new ChildProcessRunner({ killGraceMs: 100 }));

const delivery = (target: HookDelivery["target"], timeoutMs = 5000): HookDelivery => ({
  hook: "pager",
  target,
  timeoutMs,
  deliveredBy: "alpha",
  event: {
    id: "v12.0",
    seq: 4,
    kind: "resource_moved",
    atMs: 1_700_000_000_000,
    node: "beta",
    fromNode: "alpha",
    resource: "web",
    role: "started",
    source: "agent@beta",
    stateVersion: 12,
    detail: "web moved from alpha to beta",
  },
});

describe("delivering to a hook for real", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-hook-runner-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const script = async (name: string, body: string) => {
    const file = join(dir, name);
    await writeFile(file, `#!/bin/sh\n${body}\n`);
    await chmod(file, 0o755);
    return file;
  };

  test("an executable gets the event in VIGIL_* variables and as JSON on stdin", async () => {
    const out = join(dir, "seen");
    const file = await script("record", `env | grep ^VIGIL_ | sort > ${out}; cat > ${out}.json`);
    assert.deepEqual(await deliver(delivery({ run: file })), { ok: true });
    const env = (await readFile(out, "utf8")).trim().split("\n");
    for (const line of [
      "VIGIL_EVENT=resource_moved",
      "VIGIL_EVENT_ID=v12.0",
      "VIGIL_SEQ=4",
      "VIGIL_NODE=beta",
      "VIGIL_FROM_NODE=alpha",
      "VIGIL_RESOURCE=web",
      "VIGIL_HOOK=pager",
      "VIGIL_DELIVERED_BY=alpha",
      "VIGIL_DETAIL=web moved from alpha to beta",
    ])
      assert.ok(env.includes(line), `${line} in ${env.join(", ")}`);
    const json = JSON.parse(await readFile(`${out}.json`, "utf8"));
    assert.equal(json.id, "v12.0");
    assert.equal(json.fromNode, "alpha");
  });

  test("a failing, missing or hanging executable is a failed try, saying why", async () => {
    const failing = await script("fail", 'echo "disk full" >&2; exit 4');
    assert.deepEqual(await deliver(delivery({ run: failing })), {
      ok: false,
      reason: `${failing}: exit code 4: disk full`,
    });
    const missing = await deliver(delivery({ run: join(dir, "nope") }));
    assert.equal(missing.ok, false);
    assert.match(missing.ok ? "" : missing.reason, /could not run .*nope/);
    const hanging = await script("hang", "sleep 30");
    const started = Date.now();
    const hung = await deliver(delivery({ run: hanging }, 300));
    assert.deepEqual(hung, { ok: false, reason: `${hanging} did not finish within 300 ms` });
    assert.ok(Date.now() - started < 5000, "killed at its timeout, not waited for");
  });

  test("a webhook is POSTed the JSON with the id as Idempotency-Key; 2xx is success, anything else a failed try", async () => {
    const received: Array<{ key: string | undefined; body: string }> = [];
    let answer = 204;
    let hang = false;
    const server = createServer((request: IncomingMessage, response) => {
      let body = "";
      request.on("data", (chunk) => {
        body += chunk;
      });
      request.on("end", () => {
        received.push({ key: request.headers["idempotency-key"] as string | undefined, body });
        if (hang) return;
        response.statusCode = answer;
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/vigil`;
    try {
      assert.deepEqual(await deliver(delivery({ webhook: url })), { ok: true });
      assert.equal(received[0]?.key, "v12.0");
      assert.equal(JSON.parse(received[0]?.body ?? "{}").kind, "resource_moved");
      answer = 503;
      assert.deepEqual(await deliver(delivery({ webhook: url })), {
        ok: false,
        reason: `${url} answered 503`,
      });
      hang = true;
      assert.deepEqual(await deliver(delivery({ webhook: url }, 300)), {
        ok: false,
        reason: `${url} did not answer within 300 ms`,
      });
    } finally {
      server.closeAllConnections();
      server.close();
    }
    const refused = await deliver(delivery({ webhook: "http://127.0.0.1:1/nothing" }));
    assert.equal(refused.ok, false);
  });
});
