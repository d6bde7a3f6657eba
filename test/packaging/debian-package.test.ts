import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { packVigil, REPO, run } from "./pack.js";

// The .deb scripts/build-deb.mjs builds, installed by dpkg into a temporary root: dpkg --root
// with --force-script-chrootless runs the maintainer scripts outside a chroot, with $DPKG_ROOT
// naming that root, which they honour; the running system's dpkg database and files are not
// touched (the log goes to the temporary directory too).
describe("the Debian package", () => {
  let dir: string;
  let deb: string;
  let root: string;
  const dpkg = (...args: string[]) =>
    run(
      "dpkg",
      [`--root=${root}`, `--log=${join(dir, "dpkg.log")}`, "--force-script-chrootless", ...args],
      { timeout: 120_000 },
    );

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-deb-package-"));
    const tarball = await packVigil(dir);
    const { stdout } = await run(
      process.execPath,
      [join(REPO, "scripts", "build-deb.mjs"), "--tarball", tarball, "--out-dir", join(dir, "out")],
      { timeout: 300_000 },
    );
    deb = stdout.trim();
    root = join(dir, "root");
    await mkdir(join(root, "var", "lib", "dpkg", "info"), { recursive: true });
    await mkdir(join(root, "var", "lib", "dpkg", "updates"));
    await writeFile(join(root, "var", "lib", "dpkg", "status"), "");
    // No nodejs, iproute2... in the empty root's database: their absence is not what is tested.
    await dpkg("--force-depends", "--install", deb);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("its name and control fields: version, all architectures, dependencies", async () => {
    const { version } = JSON.parse(await readFile(join(REPO, "package.json"), "utf8"));
    assert.equal(deb, join(dir, "out", `vigil_${version}_all.deb`));
    const field = async (name: string) => (await run("dpkg-deb", ["-f", deb, name])).stdout.trim();
    assert.equal(await field("Package"), "vigil");
    assert.equal(await field("Version"), version);
    assert.equal(await field("Architecture"), "all");
    assert.equal(await field("Depends"), "nodejs (>= 20.12), iproute2, iputils-arping");
    assert.equal(await field("Recommends"), "resource-agents, fence-agents, nftables");
    assert.equal(await field("Section"), "admin");
    assert.equal(await field("Priority"), "optional");
    assert.match(await field("Description"), /^high-availability cluster manager for Linux\n /);
  });

  test("its files: the command, the code, the unit, /etc/vigil without a live config", async () => {
    const { stdout } = await run("dpkg-deb", ["-c", deb], { maxBuffer: 64 * 1024 * 1024 });
    const paths = stdout.split("\n").map((line) => line.split(/\s+/)[5]);
    for (const path of [
      "./usr/bin/vigil",
      "./usr/lib/vigil/bin/vigil.js",
      "./usr/lib/vigil/dist/cli/main.js",
      "./usr/lib/vigil/dashboard/index.html",
      "./usr/lib/vigil/node_modules/commander/package.json",
      "./usr/lib/systemd/system/vigil.service",
      "./usr/share/man/man8/vigil.8.gz",
      "./usr/share/doc/vigil/copyright",
      "./usr/share/doc/vigil/docs/configuration.md",
      "./etc/vigil/",
    ]) {
      assert.ok(paths.includes(path), `${path} is not in the package`);
    }
    assert.deepEqual(
      paths.filter(
        (path) => path?.startsWith("./etc/") && path !== "./etc/" && path !== "./etc/vigil/",
      ),
      [],
    );
    assert.equal(await readlink(join(root, "usr", "bin", "vigil")), "../lib/vigil/bin/vigil.js");
    const unit = await readFile(
      join(root, "usr", "lib", "systemd", "system", "vigil.service"),
      "utf8",
    );
    assert.match(unit, /^ExecStart=\/usr\/bin\/vigil agent --config \/etc\/vigil\/vigil\.yaml$/m);
  });

  test("the installed command prints its version and validates the shipped example", async () => {
    const vigil = join(root, "usr", "bin", "vigil");
    const { version } = JSON.parse(await readFile(join(REPO, "package.json"), "utf8"));
    assert.equal((await run(vigil, ["--version"])).stdout.trim(), version);
    const example = join(root, "usr", "share", "doc", "vigil", "examples", "vigil.yaml");
    const { stdout } = await run(vigil, ["config", "validate", example]);
    assert.match(stdout, /vigil\.yaml: valid/);
  });

  test("postinst made the state directory, private to root", async () => {
    const state = await lstat(join(root, "var", "lib", "vigil"));
    assert.ok(state.isDirectory());
    assert.equal(state.mode & 0o777, 0o700);
  });

  test("vigil(8) renders and has every command's help, the hidden ones left out", async () => {
    const page = gunzipSync(
      await readFile(join(root, "usr", "share", "man", "man8", "vigil.8.gz")),
    );
    assert.match(page.toString(), /^\.TH VIGIL 8 /);
    const { stdout, stderr } = spawnSync("groff", ["-man", "-Tutf8", "-ww", "-P", "-cbou"], {
      input: page,
      encoding: "utf8",
    });
    assert.equal(stderr, "");
    for (const heading of [
      "vigil agent",
      "vigil config validate",
      "vigil resource move",
      "FILES",
    ]) {
      assert.match(stdout, new RegExp(`^ {3}${heading}$|^${heading}$`, "m"), heading);
    }
    assert.match(stdout, /--state-dir <dir>/);
    assert.doesNotMatch(stdout, /vigil guard|vigil man\b/);
  });

  test("purge removes the files and this node's state", async () => {
    await dpkg("--purge", "vigil");
    for (const path of ["usr/lib/vigil", "usr/bin/vigil", "var/lib/vigil"]) {
      await assert.rejects(lstat(join(root, path)), { code: "ENOENT" }, path);
    }
  });
});
