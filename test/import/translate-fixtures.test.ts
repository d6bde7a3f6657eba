/**
 * Every fixture in test/fixtures/import (written in the manner of Heartbeat's and keepalived's
 * documentation) imports; what is written passes the checks of `vigil config validate` (the
 * cluster file, through the same loader) and `vigil config apply` (the resource document, with
 * its agents as installed here); and every directive of every input is either translated or
 * listed as not translated, with its line.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import type { ConfigProblem } from "../../src/config/errors.js";
import { loadConfigFile } from "../../src/config/load.js";
import { importHeartbeat } from "../../src/import/heartbeat/index.js";
import { importKeepalived } from "../../src/import/keepalived/index.js";
import type { ImportResult, InputFile } from "../../src/import/result.js";
import { checkResourceDocumentWithAgents } from "../../src/resources/check-agents.js";
import { fixture } from "./fixtures.js";

/** Lines that say something: not blank, not only a comment, not only braces. */
function directiveLines(input: InputFile, comment: RegExp): number[] {
  const found: number[] = [];
  let continued = false;
  input.text.split("\n").forEach((raw, index) => {
    const content = raw.replace(comment, "").trim();
    const isContinuation = continued;
    continued = content.endsWith("\\");
    if (isContinuation || content.replace(/[{}]/g, "").trim() === "") return;
    found.push(index + 1);
  });
  return found;
}

function assertEveryLineAccounted(result: ImportResult, inputs: InputFile[], comment: RegExp) {
  const accounted = result.report.accountedLines();
  for (const input of inputs) {
    const missing = directiveLines(input, comment).filter(
      (line) => !accounted.has(`${input.file}:${line}`),
    );
    assert.deepEqual(missing, [], `${input.file}: lines neither translated nor listed`);
  }
}

/** Only this machine can lack an init script (lsb:apache2, lsb:postfix are the servers'). */
function notHere(problem: ConfigProblem): boolean {
  return /not found: .* does not exist|systemd is not running/.test(problem.message);
}

async function assertValid(result: ImportResult): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "vigil-import-"));
  try {
    const file = join(dir, "vigil.yaml");
    await writeFile(file, result.clusterText);
    const config = await loadConfigFile(file);
    const nodes = config.nodes.filter((node) => !node.witness).map((node) => node.name);
    const document = parse(result.resourcesText) as Record<string, unknown>;
    const problems = (await checkResourceDocumentWithAgents(document, nodes)).filter(
      (problem) => !notHere(problem),
    );
    assert.deepEqual(problems, [], "the resource document is refused");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const HEARTBEAT_COMMENT = /(^|\s)#.*$/;
const KEEPALIVED_COMMENT = /[#!].*$/;

test("heartbeat: the two-node ha.cf, haresources and authkeys import and validate", async () => {
  const inputs = {
    haCf: fixture("heartbeat/ha.cf"),
    haresources: fixture("heartbeat/haresources"),
    authkeys: fixture("heartbeat/authkeys"),
  };
  const result = importHeartbeat({ ...inputs, clusterName: "web" });
  await assertValid(result);
  assertEveryLineAccounted(result, Object.values(inputs), HEARTBEAT_COMMENT);

  const cluster = parse(result.clusterText);
  assert.deepEqual(
    cluster.nodes.map((node: { name: string }) => node.name),
    ["alice", "bob", "witness"],
  );
  assert.deepEqual(
    cluster.links.map((link: { type: string }) => link.type),
    ["ucast", "bcast", "serial"],
  );
  assert.deepEqual(cluster.nodes[1].links, {
    ring0: { address: "10.0.1.2" },
    ring1: { interface: "eth0" },
    ring2: { device: "/dev/ttyS0" },
  });
  assert.equal(cluster.timing.deadtime_ms, 30_000);
  assert.deepEqual(cluster.connectivity.targets, [{ icmp: "10.0.0.254" }]);
  const resources = parse(result.resourcesText);
  assert.deepEqual(resources.groups["group-apache2"], {
    members: ["ip-10.0.0.10", "fs-www", "apache2"],
    meta: { auto_failback: false },
  });
  assert.deepEqual(resources.resources["fs-www"], {
    agent: "ocf:heartbeat:Filesystem",
    params: { device: "/dev/sdb1", directory: "/srv/www", fstype: "ext4" },
  });
  assert.ok(
    resources.constraints.some(
      (c: { location?: { node?: string; resource: string } }) =>
        c.location?.resource === "group-postfix" && c.location.node === "bob",
    ),
  );
  const sha1 = result.report.notTranslated.find((entry) => entry.at.line === 5);
  assert.match(sha1?.why ?? "", /vigil keygen/);
  assert.doesNotMatch(sha1?.at.text ?? "", /ThisIsNotTheRealSecret/, "the secret is not repeated");
  assert.ok(
    result.report.placeholders.some((p) => p.path.join(".") === "nodes.2.links.ring0.address"),
    "the witness's address is a placeholder",
  );
  assert.match(result.clusterText, /CHANGE ME: the witness's address/);
});

test("heartbeat: --witness and --address fill what the files cannot say", async () => {
  const result = importHeartbeat({
    haCf: fixture("heartbeat/ha.cf"),
    haresources: fixture("heartbeat/haresources"),
    addresses: new Map([
      ["bob", "10.0.1.1"],
      ["alice", "10.0.1.2"],
    ]),
    witness: { name: "quorum", address: "10.0.1.3" },
    clusterName: "web",
  });
  await assertValid(result);
  const cluster = parse(result.clusterText);
  assert.deepEqual(cluster.nodes[0].links.ring0, { address: "10.0.1.2" });
  assert.deepEqual(cluster.nodes[2], {
    id: 3,
    name: "quorum",
    witness: true,
    links: { ring0: { address: "10.0.1.3" } },
  });
  assert.deepEqual(result.report.placeholders, []);
  assert.doesNotMatch(result.clusterText, /# (CHANGE ME|CHECK):/);
});

test("keepalived: a VRRP pair with track_script and notify, one file per node", async () => {
  const inputs = [fixture("keepalived/db1.conf"), fixture("keepalived/db2.conf")];
  const result = importKeepalived({
    files: [
      { node: "db1", input: inputs[0]! },
      { node: "db2", input: inputs[1]! },
    ],
    clusterName: "db",
    witness: { name: "arbiter", address: "10.0.0.9" },
  });
  await assertValid(result);
  assertEveryLineAccounted(result, inputs, KEEPALIVED_COMMENT);
  const resources = parse(result.resourcesText);
  assert.deepEqual(resources.resources["ip-10.0.0.50"].params, {
    address: "10.0.0.50/24",
    interface: "eth0",
  });
  assert.equal(resources.resources["ip-10.0.0.50"].notify.started, "/etc/keepalived/to-master.sh");
  assert.deepEqual(resources.groups["vrrp-VI_DB"].meta, { auto_failback: false });
  const scores = resources.constraints
    .filter((c: { location?: { node?: string } }) => c.location?.node !== undefined)
    .map((c: { location: { node: string; score: number } }) => [c.location.node, c.location.score]);
  assert.deepEqual(scores, [
    ["db1", 150],
    ["db2", 100],
  ]);
  assert.deepEqual(resources.checks.chk_postgres, {
    exec: "/usr/local/bin/check-postgres",
    interval_ms: 2000,
    timeout_ms: 1000,
    rise: 2,
    fall: 2,
    resource: "vrrp-VI_DB",
  });
  assert.equal(resources.checks.chk_disk.attribute, "chk_disk");
  assert.ok(
    result.report.placeholders.some((p) => p.path.join(".") === "checks.chk_disk.exec"),
    "a script with arguments needs a wrapper",
  );
  const cluster = parse(result.clusterText);
  assert.equal(cluster.timing.keepalive_ms, 1000);
});

test("keepalived: an LVS director's virtual_server, real_servers and HTTP_GET", async () => {
  const input = fixture("keepalived/lvs-director.conf");
  const result = importKeepalived({ files: [{ input }], clusterName: "lb" });
  await assertValid(result);
  assertEveryLineAccounted(result, [input], KEEPALIVED_COMMENT);
  const resources = parse(result.resourcesText);
  const service = resources.virtual_services["lvs-192.168.200.100-80"];
  assert.equal(service.vip, "ip-192.168.200.100");
  assert.equal(service.scheduler, "wrr");
  assert.deepEqual(service.sorry_server, { address: "10.20.0.99", port: 8080 });
  assert.deepEqual(
    service.real_servers.map((s: { weight: number }) => s.weight),
    [3, 2, 1],
  );
  assert.deepEqual(resources.groups["vrrp-VI_PUBLIC"].members, [
    "ip-192.168.200.100",
    "lvs-192.168.200.100-80",
  ]);
  const first = resources.checks[service.real_servers[0].check];
  assert.deepEqual(first, {
    http: { url: "http://10.20.0.11:8080/health", status: [200] },
    interval_ms: 6000,
    timeout_ms: 3000,
    rise: 1,
    fall: 3,
  });
  assert.ok(
    result.report.notTranslated.some(
      ({ at, why }) => at.text.startsWith("digest") && /digest/.test(why),
    ),
  );
  const cluster = parse(result.clusterText);
  assert.deepEqual(
    cluster.nodes.map((node: { name: string }) => node.name),
    ["lb1"],
  );
  assert.ok(result.report.notes.some((note) => /files are per node/.test(note)));
});
