import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { LocalCluster } from "../../src/demo/local-cluster.js";
import { vigilCli } from "../support/vigil-cli.js";
import { waitFor } from "../support/wait.js";

const vigil = (...args: string[]) => vigilCli(args);

describe("vigil CLI", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-cli-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("config validate: a valid example passes, a broken file names file, line and key", async () => {
    const ok = await vigil("config", "validate", "examples/vigil.yaml");
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /examples\/vigil\.yaml: valid/);

    const broken = join(dir, "broken.yaml");
    const text = (await readFile("examples/vigil.yaml", "utf8")).replace(
      "profile: default",
      "profile: default\n  deadtime: 900",
    );
    await writeFile(broken, text);
    const bad = await vigil("config", "validate", broken);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /broken\.yaml:\d+:\d+: timing\.deadtime: unknown key 'deadtime'; did you mean 'deadtime_ms'\?/,
    );
    const missing = await vigil("config", "validate", join(dir, "nope.yaml"));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.yaml/);
  });

  test("hostile YAML (an alias bomb, deep nesting) is refused with exit 2, naming the file", async () => {
    const bomb = join(dir, "bomb.yaml");
    const levels = "abcdefghi".split("").map((name, index) =>
      index === 0
        ? "a: &a [x, x, x, x, x, x, x, x, x]"
        : `${name}: &${name} [${Array(9)
            .fill(`*${"abcdefghi"[index - 1]}`)
            .join(", ")}]`,
    );
    await writeFile(bomb, `${levels.join("\n")}\n`);
    const validate = await vigil("config", "validate", bomb);
    assert.equal(validate.code, 2, validate.stderr);
    assert.match(
      validate.stderr,
      /bomb\.yaml:6:8: refused: aliases expand to more than 100000 values/,
    );
    assert.doesNotMatch(validate.stderr, /a bug|\n\s+at /);

    const deep = join(dir, "deep-resources.yaml");
    await writeFile(deep, `resources:\n  web: ${"[".repeat(10_000)}\n`);
    const apply = await vigil("config", "apply", deep, "--socket", join(dir, "no-agent.sock"));
    assert.equal(apply.code, 2, apply.stderr);
    assert.match(
      apply.stderr,
      /deep-resources\.yaml:2:70: refused: mappings and sequences nest deeper than 64 levels here/,
    );
  });

  test("keygen writes a 0600 key file and adds a second key for rotation", async () => {
    const keyFile = join(dir, "keys", "authkeys");
    const first = await vigil("keygen", "--file", keyFile);
    assert.equal(first.code, 0, first.stderr);
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    const second = await vigil("keygen", "--file", keyFile);
    assert.equal(second.code, 0, second.stderr);
    const ids = (await readFile(keyFile, "utf8"))
      .split("\n")
      .filter((line) => /^\d+ /.test(line))
      .map((line) => line.split(" ")[0]);
    assert.deepEqual(ids, ["1", "2"]);
  });

  test("the agent refuses a key file that others can read, and says how to fix it", async () => {
    const cluster = await LocalCluster.create({
      nodes: 3,
      dir: join(dir, "c1"),
      profile: "default",
    });
    await chmod(join(dir, "c1", "authkeys"), 0o644);
    const result = await vigil("agent", "--config", cluster.configPath, "--node", "alpha");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /mode 0644.*chmod 600/s);
  });

  test("config validate refuses a two-node cluster without a witness, saying why", async () => {
    const text = (await readFile("examples/two-links.yaml", "utf8")).replace(
      / {2}- id: 3\n {4}name: quorum\n {4}witness: true.*\n {4}links:\n {6}lan: \{ address: 10\.0\.0\.30 \}\n/,
      "",
    );
    const file = join(dir, "pair.yaml");
    await writeFile(file, text);
    const result = await vigil("config", "validate", file);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /two-node cluster \(nfs-a, nfs-b\).*add a witness/);
  });

  test("config validate checks fence devices against the installed agents, naming the device", async () => {
    const text = (await readFile("examples/two-node.yaml", "utf8")).replace(
      "agent: fence_ipmilan\n      params: { ip: 10.0.9.2",
      "agent: fence_ipmilna\n      params: { ip: 10.0.9.2",
    );
    assert.match(text, /fence_ipmilna/, "test setup: the second device's agent misspelt");
    const file = join(dir, "misspelt-agent.yaml");
    await writeFile(file, text);
    const result = await vigil("config", "validate", file);
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      /misspelt-agent\.yaml:\d+:\d+: fencing\.devices\.ipmi-db2\.agent: fence device ipmi-db2: fence agent fence_ipmilna not found .*\(did you mean fence_ipmilan\?\)/,
    );
    const valid = await vigil("config", "validate", "examples/two-node.yaml");
    assert.equal(valid.code, 0, valid.stderr);
    assert.match(
      valid.stdout,
      /fence devices: ipmi-db1 \(fence_ipmilan\), ipmi-db2 \(fence_ipmilan\), checked against the agents installed here/,
    );
  });

  test("the agent refuses a node name that is not in the config, listing the names", async () => {
    const cluster = await LocalCluster.create({
      nodes: 3,
      dir: join(dir, "c2"),
      profile: "default",
    });
    const result = await vigil("agent", "--config", cluster.configPath, "--node", "zulu");
    assert.equal(result.code, 2);
    assert.match(result.stderr, /zulu/);
    assert.match(result.stderr, /alpha/);
  });

  test("status: a clear error without an agent; a table and JSON with one", async () => {
    const none = await vigil("status", "--socket", join(dir, "absent.sock"));
    assert.equal(none.code, 1);
    assert.match(none.stderr, /is the agent running\?/);

    const cluster = await LocalCluster.create({ nodes: 3, dir: join(dir, "c3"), profile: "fast" });
    try {
      for (const name of cluster.names) await cluster.start(name);
      await waitFor("alpha to see beta and gamma up", async () =>
        (await cluster.status("alpha")).nodes.every((node) => node.state === "up")
          ? true
          : undefined,
      );
      const table = await vigil("status", "--socket", cluster.socketPath("alpha"));
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /NODE\s+ID\s+STATE/);
      assert.match(table.stdout, /beta\s+2\s+up/);
      assert.match(table.stdout, /profile fast/);
      assert.match(
        table.stdout,
        /Coordination: (leader|follower|pre_candidate|candidate) · term \d+ · leader /,
      );
      assert.match(table.stdout, /votes \d+\/2 needed/);
      const json = await vigil("status", "--json", "--socket", cluster.socketPath("alpha"));
      const parsed = JSON.parse(json.stdout) as { node: { name: string }; nodes: unknown[] };
      assert.equal(parsed.node.name, "alpha");
      assert.equal(parsed.nodes.length, 2);
    } finally {
      await cluster.stopAll();
    }
  });
});
