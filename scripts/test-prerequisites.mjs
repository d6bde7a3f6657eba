// What the whole test suite needs from the machine, checked before `npm test` runs anything: a
// fresh machine without the Debian packages gets one message naming every missing piece and the
// command that installs them, in seconds, instead of tests failing one by one minutes later.
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Each requirement: how to tell it is there, and the Debian package that brings it. */
const REQUIREMENTS = [
  { what: "ip", package: "iproute2" },
  { what: "ss", package: "iproute2" },
  { what: "nft", package: "nftables" },
  { what: "socat", package: "socat" },
  { what: "arping", package: "iputils-arping" },
  { what: "ping", package: "iputils-ping" },
  { what: "pgrep", package: "procps" },
  { what: "redis-server", package: "redis-server" },
  { what: "redis-cli", package: "redis-tools" },
  // PostgreSQL as ocf:heartbeat:pgsql replicates it (its servers under /usr/lib/postgresql).
  { what: "psql", package: "postgresql" },
  { what: "pg_ctlcluster", package: "postgresql" },
  { path: "/usr/lib/ocf/resource.d/heartbeat/IPaddr2", package: "resource-agents" },
  { path: "/usr/sbin/fence_ipmilan", package: "fence-agents" },
  { what: "ipmitool", package: "ipmitool" },
  // A real load balancer following failovers through the health endpoints.
  { path: "/usr/sbin/haproxy", package: "haproxy" },
  // redis-py's Sentinel client, against the agents' Sentinel protocol (Debian's python3).
  { path: "/usr/lib/python3/dist-packages/redis/sentinel.py", package: "python3-redis" },
  // The dashboard's browser test drives this very binary (playwright-core brings no browser).
  { path: "/usr/bin/chromium", package: "chromium" },
  // The Debian package's test: dpkg-deb builds it, groff renders its vigil(8) page.
  { what: "dpkg-deb", package: "dpkg" },
  { what: "groff", package: "groff-base" },
  // ocf:heartbeat:Filesystem's own needs, and the image its test makes (losetup: util-linux).
  { what: "modprobe", package: "kmod" },
  { what: "fuser", package: "psmisc" },
  { what: "mkfs.ext4", package: "e2fsprogs" },
];

function onPath(command) {
  const dirs = (process.env.PATH ?? "").split(delimiter).concat(["/usr/sbin", "/sbin"]);
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Problems, one line each (empty when everything is there). */
export function missingPrerequisites() {
  const problems = [];
  if (process.platform !== "linux") problems.push("Linux (network namespaces)");
  if (process.getuid?.() !== 0) problems.push("root (network namespaces, nftables, addresses)");
  const packages = new Set();
  for (const requirement of REQUIREMENTS) {
    const present =
      requirement.path !== undefined ? existsSync(requirement.path) : onPath(requirement.what);
    if (present) continue;
    problems.push(
      `${requirement.what ?? requirement.path} (Debian package ${requirement.package})`,
    );
    packages.add(requirement.package);
  }
  return { problems, packages: [...packages] };
}

export function prerequisitesMessage({ problems, packages }) {
  const install =
    packages.length > 0
      ? `  apt-get install -y --no-install-recommends ${packages.join(" ")}\n`
      : "";
  return [
    `npm test needs what this machine lacks:\n${problems.map((p) => `  - ${p}\n`).join("")}`,
    "Install everything the tests need and run them, as root on Debian:\n  bash .ci/run\n",
    install === "" ? "" : `or only the missing packages:\n${install}`,
    "To run a few unit tests without them: node scripts/run-tests.mjs wire membership",
  ].join("");
}

// `node scripts/test-prerequisites.mjs` (the first step of npm test): exit 1 with the message.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const missing = missingPrerequisites();
  if (missing.problems.length > 0) {
    console.error(prerequisitesMessage(missing));
    process.exit(1);
  }
}
