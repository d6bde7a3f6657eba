/**
 * Input the importers cannot read is refused with the file and line of the problem, and the
 * command writes nothing then; existing output files are kept unless --force.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { importHeartbeat } from "../../src/import/heartbeat/index.js";
import { importKeepalived } from "../../src/import/keepalived/index.js";
import { vigilCli } from "../support/vigil-cli.js";
import { fixture, ROOT } from "./fixtures.js";

const HA_CF = "node alice\nnode bob\nucast eth1 10.0.1.1\nucast eth1 10.0.1.2\n";
const HARESOURCES = "alice IPaddr::10.0.0.10/24/eth0 apache2\n";

function heartbeat(haCf: string, haresources = HARESOURCES, authkeys?: string) {
  return () =>
    importHeartbeat({
      haCf: { file: "ha.cf", text: haCf },
      haresources: { file: "haresources", text: haresources },
      ...(authkeys !== undefined ? { authkeys: { file: "authkeys", text: authkeys } } : {}),
      clusterName: "test",
    });
}

function keepalived(text: string) {
  return () =>
    importKeepalived({
      files: [{ input: { file: "keepalived.conf", text } }],
      clusterName: "test",
    });
}

const INSTANCE = `vrrp_instance VI_1 {
    interface eth0
    priority 100
    virtual_ipaddress {
        10.0.0.50/24
    }
`;

describe("bad input names its file and line", () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      "ha.cf: an unknown directive",
      heartbeat(`${HA_CF}frobnicate on\n`),
      /^ha\.cf:5: unknown ha\.cf directive "frobnicate"/,
    ],
    [
      "ha.cf: a time that is not one",
      heartbeat(`${HA_CF}# timing\n\nkeepalive two\n`),
      /^ha\.cf:7: keepalive: "two" is not a time/,
    ],
    [
      "ha.cf: a ucast line without an address",
      heartbeat(`${HA_CF}ucast eth2\n`),
      /^ha\.cf:5: ucast: expected an interface and an address/,
    ],
    [
      "ha.cf: a ucast address that is not one",
      heartbeat(`${HA_CF}ucast eth2 10.0.1.300\n`),
      /^ha\.cf:5: ucast: "10\.0\.1\.300" is not an IPv4 address/,
    ],
    [
      "ha.cf: auto_failback neither on nor off",
      heartbeat(`auto_failback maybe\n${HA_CF}`),
      /^ha\.cf:1: auto_failback: expected on, off or legacy/,
    ],
    [
      "ha.cf: a warntime past the deadtime (Vigil's rules between the knobs)",
      heartbeat(`${HA_CF}keepalive 2\nwarntime 40\ndeadtime 30\n`),
      /^ha\.cf:6: the translated cluster file would be refused .*warntime_ms \(40000\) must be less than deadtime_ms \(30000\)/,
    ],
    [
      "ha.cf: a keepalive too slow for Vigil's elections",
      heartbeat(`${HA_CF}keepalive 30\n`),
      /^ha\.cf:5: a keepalive of 30000 ms is too slow for Vigil: .* can be 12000 ms at most/,
    ],
    ["ha.cf: no node", heartbeat("ucast eth1 10.0.1.1\n"), /^ha\.cf:1: no node directive/],
    [
      "haresources: a node ha.cf does not have",
      heartbeat(HA_CF, "\ncarol apache2\n"),
      /^haresources:2: carol is not a node of ha\.cf \(nodes: alice, bob\)/,
    ],
    [
      "haresources: an IPaddr without an address",
      heartbeat(HA_CF, "alice IPaddr::eth0\n"),
      /^haresources:1: IPaddr::eth0: expected IPaddr::ADDRESS/,
    ],
    [
      "haresources: a prefix length out of range",
      heartbeat(HA_CF, "alice IPaddr2::10.0.0.10/33\n"),
      /^haresources:1: .*"33" is not a prefix length/,
    ],
    [
      "authkeys: a line that is neither auth nor a key",
      heartbeat(HA_CF, HARESOURCES, "auth 1\n1 rot13 secret\n"),
      /^authkeys:2: expected `auth N` or `N sha1\|md5\|crc SECRET`/,
    ],
    [
      "keepalived: an unknown top-level keyword",
      keepalived("global_defs {\n}\nvrrp_instanse VI_1 {\n}\n"),
      /^keepalived\.conf:3: unknown keepalived directive "vrrp_instanse"/,
    ],
    [
      "keepalived: an unknown vrrp_instance keyword",
      keepalived(`${INSTANCE}    priorty 50\n}\n`),
      /^keepalived\.conf:7: unknown vrrp_instance directive "priorty"/,
    ],
    [
      "keepalived: a block never closed",
      keepalived(INSTANCE),
      /^keepalived\.conf:1: the block of "vrrp_instance VI_1" is never closed/,
    ],
    [
      "keepalived: a } closing nothing",
      keepalived("global_defs {\n}\n}\n"),
      /^keepalived\.conf:3: a } with no block to close/,
    ],
    [
      "keepalived: a quote never closed",
      keepalived('vrrp_script chk {\n  script "/bin/true\n}\n'),
      /^keepalived\.conf:2: a quote that is never closed/,
    ],
    [
      "keepalived: a track_script with no vrrp_script",
      keepalived(`${INSTANCE}    track_script {\n        chk_missing\n    }\n}\n`),
      /^keepalived\.conf:8: track_script: no vrrp_script chk_missing/,
    ],
    [
      "keepalived: a priority out of range",
      keepalived(`${INSTANCE.replace("priority 100", "priority 300")}}\n`),
      /^keepalived\.conf:3: priority: expected a whole number from 1 to 255, got "300"/,
    ],
    [
      "keepalived: a real_server without a port",
      keepalived(
        `${INSTANCE}}\nvirtual_server 10.0.0.50 80 {\n    real_server 10.0.1.1 {\n    }\n}\n`,
      ),
      /^keepalived\.conf:9: real_server: expected a whole number from 1 to 65535/,
    ],
  ];
  for (const [name, run, expected] of cases)
    test(name, () => {
      assert.throws(run, (error: Error) => {
        assert.equal(error.name, "ImportError");
        assert.match(error.message, expected);
        return true;
      });
    });
});

describe("vigil import on the command line", () => {
  let dir: string;
  const vigil = (...args: string[]) => vigilCli(args, { cwd: ROOT });

  const heartbeatArgs = () => [
    "import",
    "heartbeat",
    "--ha-cf",
    fixture("heartbeat/ha.cf").file,
    "--haresources",
    fixture("heartbeat/haresources").file,
    "--authkeys",
    fixture("heartbeat/authkeys").file,
    "--out-dir",
    dir,
  ];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-import-cli-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("writes both files, lists every line not translated, and refuses to overwrite without --force", async () => {
    const first = await vigil(...heartbeatArgs());
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Not translated \(8\):/);
    assert.match(first.stdout, /ha\.cf:37: stonith_host alice external\/ipmi/);
    assert.match(first.stdout, /-- fencing is fencing\.devices/);
    assert.match(first.stdout, /run `vigil keygen`/);
    const written = await readFile(join(dir, "vigil.yaml"), "utf8");

    await writeFile(join(dir, "resources.yaml"), "# mine\n");
    const again = await vigil(...heartbeatArgs());
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      /vigil\.yaml and .*resources\.yaml already exist: nothing written \(--force replaces them\)/,
    );
    assert.equal(await readFile(join(dir, "resources.yaml"), "utf8"), "# mine\n");

    const forced = await vigil(...heartbeatArgs(), "--force");
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual(await readFile(join(dir, "resources.yaml"), "utf8"), "# mine\n");
    assert.equal(await readFile(join(dir, "vigil.yaml"), "utf8"), written);
  });

  test("a missing file is named; a bad line exits 2 with file:line", async () => {
    const missing = await vigil(
      "import",
      "keepalived",
      join(dir, "nope.conf"),
      "--out-dir",
      dir,
      "--force",
    );
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.conf: cannot read it \(no such file\)/);

    const bad = join(dir, "bad.conf");
    await writeFile(
      bad,
      "global_defs {\n  router_id lb1\n}\nvrrp_instance VI_1 {\n  interface eth0\n  prio 5\n}\n",
    );
    const refused = await vigil("import", "keepalived", bad, "--out-dir", dir, "--force");
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /bad\.conf:6: unknown vrrp_instance directive "prio"/);
  });
});
