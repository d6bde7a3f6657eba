import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { packVigil, REPO, run, unresolvedImports } from "./pack.js";

// `npm install -g` of the packed tarball into a temporary prefix, as an operator installs it on
// a server: offline and with an empty npm cache, so the package must carry its dependencies.
describe("the npm package", () => {
  let dir: string;
  let tarball: string;
  let prefix: string;
  const installed = () => join(prefix, "lib", "node_modules", "vigil");

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-npm-package-"));
    tarball = await packVigil(dir);
    prefix = join(dir, "prefix");
    await run(
      "npm",
      [
        "install",
        "--global",
        "--prefix",
        prefix,
        "--offline",
        "--cache",
        join(dir, "empty-npm-cache"),
        "--no-audit",
        "--no-fund",
        tarball,
      ],
      { timeout: 300_000 },
    );
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("vigil on the prefix's PATH prints the package's version", async () => {
    const { version } = JSON.parse(await readFile(join(REPO, "package.json"), "utf8"));
    const { stdout } = await run(join(prefix, "bin", "vigil"), ["--version"]);
    assert.equal(stdout.trim(), version);
  });

  test("the installed vigil validates the example configuration", async () => {
    const example = join(REPO, "examples", "vigil.yaml");
    const { stdout } = await run(join(prefix, "bin", "vigil"), ["config", "validate", example]);
    assert.match(stdout, /vigil\.yaml: valid/);
    assert.match(stdout, /nodes: db1 \(1\), db2 \(2\), db3 \(3\)/);
  });

  test("what runs at run time is shipped: assets, the unit, examples, every imported file", async () => {
    for (const path of [
      "dashboard/index.html",
      "examples/systemd/vigil.service",
      "examples/agents/marker",
      "examples/vigil.yaml",
      "docs/configuration.md",
      "node_modules/commander/package.json",
    ]) {
      assert.ok(existsSync(join(installed(), path)), `${path} is missing`);
    }
    assert.deepEqual(await unresolvedImports(join(installed(), "dist")), []);
  });

  test("tests, sources, source maps and the simulators are not shipped", async () => {
    const { stdout } = await run("tar", ["-tzf", tarball], { maxBuffer: 64 * 1024 * 1024 });
    const own = stdout
      .split("\n")
      .filter((path) => path && !path.startsWith("package/node_modules/"));
    const unwanted = own.filter((path) =>
      /^package\/(test|src|scripts|bench)\/|^package\/dist\/.*\.map$|^package\/dist\/(whole-)?sim\//.test(
        path,
      ),
    );
    assert.deepEqual(unwanted, []);
  });
});
