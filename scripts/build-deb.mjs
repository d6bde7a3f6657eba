#!/usr/bin/env node
// Builds the Debian package vigil_<version>_all.deb from the npm package, so both ship the same
// files: the code and its bundled dependencies under /usr/lib/vigil, the `vigil` command, the
// systemd unit, /etc/vigil/, the vigil(8) page generated from every command's --help, and the
// maintainer scripts of packaging/debian/. Needs node, npm, tar and dpkg-deb; no network (the
// npm package bundles its dependencies).
//
//   node scripts/build-deb.mjs [--tarball vigil-X.tgz] [--out-dir DIR]
//
// Without --tarball it runs `npm pack` (which builds dist/ first). The .deb goes to DIR
// (default build/); nothing else in the repository is written.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const MAINTAINER_SCRIPTS = ["postinst", "prerm", "postrm"];

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", ...options });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stderr ?? ""}`,
    );
  }
  return result.stdout;
}

/** Debian sorts `~` before anything: 1.0.0~rc.1 < 1.0.0, as semver's 1.0.0-rc.1 < 1.0.0. A `-` would start a Debian revision. */
export function debianVersion(npmVersion) {
  return npmVersion.replaceAll("-", "~");
}

function packTarball(workDir) {
  const packed = JSON.parse(
    run("npm", ["pack", "--json", "--pack-destination", workDir], { cwd: REPO }),
  );
  return join(workDir, packed[0].filename);
}

/** dpkg-deb takes modes as they are: dirs and executables 0755, everything else 0644, whatever the umask or tarball said. */
function normalizeModes(path) {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    chmodSync(path, 0o755);
    for (const entry of readdirSync(path)) normalizeModes(join(path, entry));
  } else {
    chmodSync(path, stat.mode & 0o111 ? 0o755 : 0o644);
  }
}

/** Installed-Size in KiB, as dpkg-gencontrol counts it: each file rounded up, one per directory. */
function installedSizeKib(path) {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return Math.max(1, Math.ceil(stat.size / 1024));
  let total = 1;
  for (const entry of readdirSync(path)) total += installedSizeKib(join(path, entry));
  return total;
}

function controlFile(pkg, installedSize) {
  const maintainer =
    process.env.DEBFULLNAME && process.env.DEBEMAIL
      ? `${process.env.DEBFULLNAME} <${process.env.DEBEMAIL}>`
      : "Vigil maintainers <maintainers@vigil.invalid>";
  return `${[
    "Package: vigil",
    `Version: ${debianVersion(pkg.version)}`,
    // Pure JavaScript, dependencies included (none has native code): one package for every
    // architecture Node.js runs on.
    "Architecture: all",
    `Maintainer: ${maintainer}`,
    `Installed-Size: ${installedSize}`,
    `Depends: nodejs (>= ${pkg.engines.node.replace(/^>=\s*/, "")}), iproute2, iputils-arping`,
    "Recommends: resource-agents, fence-agents, nftables",
    "Section: admin",
    "Priority: optional",
    "Description: high-availability cluster manager for Linux",
    " Vigil keeps services running on a cluster of Linux machines, as Heartbeat and",
    " Pacemaker do. Its agent exchanges authenticated heartbeats over redundant links,",
    " detects failed nodes, agrees with the other nodes on membership through Raft,",
    " and starts, stops and moves the cluster's resources: virtual IP addresses,",
    " systemd, LSB and OCF services, and promotable databases such as Redis.",
    " .",
    " The agent runs as the systemd service vigil.service, which is installed but",
    " neither enabled nor started: write its configuration with `vigil init` first.",
  ].join("\n")}\n`;
}

function manPage(stage) {
  const page = run(process.execPath, [join(stage, "usr/lib/vigil/bin/vigil.js"), "man"]);
  return gzipSync(page, { level: 9 });
}

/** Lays out the package's files under `stage` from the npm tarball. */
function stageFiles(tarball, stage) {
  const lib = join(stage, "usr/lib/vigil");
  mkdirSync(lib, { recursive: true });
  run("tar", ["-xzf", tarball, "-C", lib, "--strip-components=1", "--no-same-owner"]);

  const doc = join(stage, "usr/share/doc/vigil");
  mkdirSync(doc, { recursive: true });
  // Documentation is not needed at run time: it goes where Debian keeps it. The examples stay
  // with the code (`vigil demo` runs examples/agents/marker) and are linked from the docs.
  // README.md links docs/*.md: they keep their places beside it.
  renameSync(join(lib, "docs"), join(doc, "docs"));
  renameSync(join(lib, "README.md"), join(doc, "README.md"));
  symlinkSync("../../../lib/vigil/examples", join(doc, "examples"));
  copyFileSync(join(REPO, "packaging/debian/copyright"), join(doc, "copyright"));

  mkdirSync(join(stage, "usr/bin"), { recursive: true });
  symlinkSync("../lib/vigil/bin/vigil.js", join(stage, "usr/bin/vigil"));
  // /usr/lib/systemd/system: systemd reads it on merged-/usr and split systems alike.
  mkdirSync(join(stage, "usr/lib/systemd/system"), { recursive: true });
  copyFileSync(
    join(lib, "examples/systemd/vigil.service"),
    join(stage, "usr/lib/systemd/system/vigil.service"),
  );
  // Empty: the operator's cluster file and keys go here (vigil init). No example is installed
  // as /etc/vigil/vigil.yaml, where the agent would start with its made-up addresses.
  mkdirSync(join(stage, "etc/vigil"), { recursive: true });

  mkdirSync(join(stage, "usr/share/man/man8"), { recursive: true });
  writeFileSync(join(stage, "usr/share/man/man8/vigil.8.gz"), manPage(stage));
}

export function buildDeb({ tarball, outDir }) {
  const work = mkdtempSync(join(tmpdir(), "vigil-deb-"));
  try {
    const source = tarball ? resolve(tarball) : packTarball(work);
    const stage = join(work, "root");
    stageFiles(source, stage);
    normalizeModes(stage);

    const pkg = JSON.parse(readFileSync(join(stage, "usr/lib/vigil/package.json"), "utf8"));
    const control = join(stage, "DEBIAN");
    mkdirSync(control);
    writeFileSync(join(control, "control"), controlFile(pkg, installedSizeKib(stage) - 1));
    for (const script of MAINTAINER_SCRIPTS) {
      copyFileSync(join(REPO, "packaging/debian", script), join(control, script));
      chmodSync(join(control, script), 0o755);
    }

    mkdirSync(outDir, { recursive: true });
    const deb = join(resolve(outDir), `vigil_${debianVersion(pkg.version)}_all.deb`);
    run("dpkg-deb", ["--root-owner-group", "--build", stage, deb]);
    return deb;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { tarball: { type: "string" }, "out-dir": { type: "string" } },
  });
  const deb = buildDeb({
    tarball: values.tarball,
    outDir: values["out-dir"] ?? join(REPO, "build"),
  });
  console.log(deb);
}
