import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { composeInitFile, type InitRequest } from "../../src/cli/init-file.js";
import { parseConfigText } from "../../src/config/load.js";
import { vigilCli } from "../support/vigil-cli.js";

const vigil = (...args: string[]) => vigilCli(args);

const request = (overrides: Partial<InitRequest>): InitRequest => ({
  cluster: "prod",
  nodes: ["db1=10.0.0.11,10.1.0.11", "db2=10.0.0.12,10.1.0.12", "db3=10.0.0.13,10.1.0.13"],
  profile: "default",
  keyFile: "/etc/vigil/authkeys",
  ...overrides,
});

describe("vigil init: the file it composes", () => {
  test("three nodes with two addresses each: a link per address, unicast, every node on both", () => {
    const config = parseConfigText(composeInitFile(request({})).text, "init.yaml");
    assert.deepEqual(
      config.links.map((link) => [link.name, link.type]),
      [
        ["ring0", "ucast"],
        ["ring1", "ucast"],
      ],
    );
    assert.deepEqual(
      config.nodes.map((node) => [node.id, node.name, Object.keys(node.links)]),
      [
        [1, "db1", ["ring0", "ring1"]],
        [2, "db2", ["ring0", "ring1"]],
        [3, "db3", ["ring0", "ring1"]],
      ],
    );
  });

  test("two nodes get a witness for the third vote, or are refused saying what to add", () => {
    const two = ["db1=10.0.0.11", "db2=10.0.0.12"];
    assert.throws(
      () => composeInitFile(request({ nodes: two })),
      /two nodes cannot keep a majority.*--witness NAME=ADDRESS.*fencing/,
    );
    const file = composeInitFile(request({ nodes: two, witness: "q=10.0.0.13" }));
    const config = parseConfigText(file.text, "init.yaml");
    assert.deepEqual(
      config.nodes.map((node) => [node.name, node.witness]),
      [
        ["db1", false],
        ["db2", false],
        ["q", true],
      ],
    );
    assert.ok(file.choices.some((line) => /quorum: 2 of 3 votes.*q is a witness/.test(line)));
    assert.ok(file.choices.some((line) => /one link, a single cable or switch fault/.test(line)));
  });

  test("flags that cannot make a cluster are refused, naming the flag", () => {
    const cases: Array<[Partial<InitRequest>, RegExp]> = [
      [{ nodes: [] }, /at least one node/],
      [{ nodes: ["db1"] }, /--node db1: expected NAME=ADDRESS/],
      [{ nodes: ["db1=10.0.0.1,", "db2=10.0.0.2"] }, /--node db1=10\.0\.0\.1,: expected/],
      [
        { nodes: ["db1=10.0.0.1,10.1.0.1", "db2=10.0.0.2", "db3=10.0.0.3"] },
        /--node db2: 1 address\(es\), but db1 has 2/,
      ],
      [
        { nodes: ["db1=10.0.0.1", "db1=10.0.0.2", "db3=10.0.0.3"] },
        /--node db1: the name is given twice/,
      ],
      [
        { nodes: ["db1=10.0.0.1", "db2=10.0.0.2"], witness: "q=10.0.0.3,10.1.0.3" },
        /--witness q: 2 addresses, but the nodes have 1 link/,
      ],
    ];
    for (const [overrides, message] of cases)
      assert.throws(() => composeInitFile(request(overrides)), message, JSON.stringify(overrides));
  });
});

describe("vigil init: the command", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-init-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("writes a file that validates and a key of mode 0600, explains its choices, keeps what exists", async () => {
    const out = join(dir, "etc", "vigil.yaml");
    const key = join(dir, "keys", "authkeys");
    const args = ["init", "--cluster", "prod", "--out", out, "--key", key];
    const nodes = ["--node", "db1=10.0.0.11,10.1.0.11", "--node", "db2=10.0.0.12,10.1.0.12"];
    const first = await vigil(...args, ...nodes, "--witness", "q=10.0.0.13");
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /created .*authkeys \(mode 0600\) with key 1/);
    assert.match(first.stdout, /quorum: 2 of 3 votes/);
    assert.match(first.stdout, /etc\/vigil\.yaml: valid\n {2}cluster prod/);
    assert.equal((await stat(key)).mode & 0o777, 0o600);
    const validate = await vigil("config", "validate", out);
    assert.equal(validate.code, 0, validate.stderr);

    const keyBefore = await readFile(key, "utf8");
    const again = await vigil(...args, ...nodes, "--witness", "q=10.0.0.13");
    assert.equal(again.code, 1);
    assert.match(again.stderr, /vigil\.yaml exists; pass --force to replace it/);
    const forced = await vigil(...args, ...nodes, "--witness", "q=10.0.0.14", "--force");
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /kept the existing key file/);
    assert.equal(await readFile(key, "utf8"), keyBefore);
    assert.match(await readFile(out, "utf8"), /address: 10\.0\.0\.14/);
  });

  test("a bad address or profile is refused with exit 2 and nothing is written", async () => {
    const out = join(dir, "bad.yaml");
    const key = join(dir, "bad-keys", "authkeys");
    const bad = await vigil(
      "init",
      "--cluster",
      "prod",
      "--out",
      out,
      "--key",
      key,
      "--node",
      "db1=10.0.0.311",
      "--node",
      "db2=10.0.0.12",
      "--node",
      "db3=10.0.0.13",
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /nodes\[0\]\.links\.ring0\.address: expected an IPv4 address/);
    const profile = await vigil(
      "init",
      "--cluster",
      "prod",
      "--out",
      out,
      "--key",
      key,
      "--node",
      "db1=10.0.0.1",
      "--profile",
      "quick",
    );
    assert.equal(profile.code, 2);
    assert.match(profile.stderr, /--profile takes default or fast, got "quick"/);
    await assert.rejects(stat(out), { code: "ENOENT" });
    await assert.rejects(stat(key), { code: "ENOENT" });
  });
});
