/**
 * Translations the fixtures do not show: Heartbeat's mcast links, IPaddr without a prefix,
 * resource.d scripts with arguments, crm on; keepalived's positive weights, other tracked
 * interfaces, a virtual server whose address no instance has, one file alone. Each result is
 * checked by the same rules `vigil config validate` and `vigil config apply` use.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "yaml";
import { parseConfigText } from "../../src/config/load.js";
import { importHeartbeat } from "../../src/import/heartbeat/index.js";
import { importKeepalived } from "../../src/import/keepalived/index.js";
import type { ImportResult } from "../../src/import/result.js";
import { checkResourceDocument } from "../../src/resource-check/check-document.js";

function assertValid(result: ImportResult) {
  const config = parseConfigText(result.clusterText, "vigil.yaml");
  const nodes = config.nodes.filter((node) => !node.witness).map((node) => node.name);
  assert.deepEqual(checkResourceDocument(parse(result.resourcesText), nodes).problems, []);
}

function heartbeat(haCf: string, haresources: string): ImportResult {
  const result = importHeartbeat({
    haCf: { file: "ha.cf", text: haCf },
    haresources: { file: "haresources", text: haresources },
    clusterName: "test",
  });
  assertValid(result);
  return result;
}

function skipped(result: ImportResult, file: string, line: number): string {
  const found = result.report.notTranslated.filter(
    (entry) => entry.at.file === file && entry.at.line === line,
  );
  assert.ok(found.length > 0, `${file}:${line} is listed as not translated`);
  return found.map((entry) => entry.why).join("\n");
}

test("heartbeat: an mcast link, three nodes without a witness, crm on, and haresources' odd cases", () => {
  const result = heartbeat(
    "mcast eth1 239.0.0.43 694 1 0\ncrm on\nnode n1 n2 n3\n",
    "n2 IPaddr::10.0.0.20 drbddisk::r0 Filesystem::/dev/drbd0::/srv\n",
  );
  const cluster = parse(result.clusterText);
  assert.deepEqual(cluster.links, [
    { name: "ring0", type: "mcast", group: "239.0.0.43", port: 694, ttl: 1 },
  ]);
  assert.deepEqual(
    cluster.nodes.map((node: { name: string; links: unknown }) => [node.name, node.links]),
    ["n1", "n2", "n3"].map((name) => [name, { ring0: { interface: "eth1" } }]),
  );
  assert.match(skipped(result, "ha.cf", 2), /Pacemaker's CIB/);
  assert.match(skipped(result, "haresources", 1), /drbddisk::r0: .*resource\.d scripts/);
  const resources = parse(result.resourcesText);
  assert.deepEqual(resources.groups["group-fs-srv"].members, ["ip-10.0.0.20", "fs-srv"]);
  assert.equal(resources.resources["ip-10.0.0.20"].params.address, "10.0.0.20/24");
  assert.deepEqual(
    result.report.placeholders.map((p) => p.path.join(".")),
    ["resources.ip-10.0.0.20.params.address"],
  );
  assert.match(
    result.resourcesText,
    /address: 10\.0\.0\.20\/24 # CHANGE ME: IPaddr found the prefix length/,
  );
});

test("heartbeat: a ucast address whose node the file does not say is listed, and its node gets a placeholder", () => {
  const result = heartbeat("ucast eth1 10.0.1.2\nnode a\nnode b\n", "a httpd\n");
  assert.match(skipped(result, "ha.cf", 1), /give --address NODE=10\.0\.1\.2/);
  const placeholders = result.report.placeholders.map((p) => p.path.join("."));
  assert.deepEqual(placeholders.sort(), [
    "nodes.0.links.ring0.address",
    "nodes.1.links.ring0.address",
    "nodes.2.links.ring0.address",
  ]);
});

test("heartbeat: a baud rate Vigil does not run is refused at its line", () => {
  assert.throws(
    () =>
      heartbeat(
        "serial /dev/ttyS0\nbaud 12345\nnode a\nnode b\nucast eth0 10.0.0.1\nucast eth0 10.0.0.2\n",
        "a x\n",
      ),
    /^ImportError: ha\.cf:2: the translated cluster file would be refused .*links\[1\]\.baud/,
  );
});

test("keepalived: one file alone, a positive weight, another tracked interface, a virtual server without an instance", () => {
  const text = `vrrp_script chk_up {
    script /usr/local/bin/up
    interval 3
    weight 10
}
vrrp_instance VI_1 {
    interface eth0
    priority 90
    virtual_ipaddress {
        10.0.0.60
    }
    track_interface {
        eth9
    }
    track_script {
        chk_up
    }
    notify_master "/usr/local/bin/tell master"
}
virtual_server 10.0.0.70 443 {
    lb_algo lc
    lb_kind DR
    real_server 10.0.1.1 443 {
        SSL_GET {
            url {
                path /
            }
        }
    }
}
`;
  const result = importKeepalived({
    files: [{ input: { file: "k.conf", text } }],
    clusterName: "test",
  });
  assertValid(result);
  const cluster = parse(result.clusterText);
  assert.deepEqual(
    cluster.nodes.map((node: { name: string }) => node.name),
    ["node1"],
  );
  const resources = parse(result.resourcesText);
  assert.equal(resources.resources["ip-10.0.0.60"].params.address, "10.0.0.60/32");
  assert.deepEqual(resources.constraints[0], {
    location: {
      resource: "vrrp-VI_1",
      rules: [{ attribute: "chk_up", op: "eq", value: "1" }],
      score: 10,
    },
  });
  assert.match(skipped(result, "k.conf", 13), /eth9 is not the instance's interface/);
  assert.match(skipped(result, "k.conf", 21), /rr, wrr or sh: lc/);
  assert.match(skipped(result, "k.conf", 22), /NAT only/);
  assert.deepEqual(resources.groups["lvs-10.0.0.70"].members, [
    "ip-10.0.0.70",
    "lvs-10.0.0.70-443",
  ]);
  const check =
    resources.checks[resources.virtual_services["lvs-10.0.0.70-443"].real_servers[0].check];
  assert.deepEqual(check.http, { url: "https://10.0.1.1:443/", tls_verify: false });
  assert.deepEqual(result.report.placeholders.map((p) => p.path.join(".")).sort(), [
    "resources.ip-10.0.0.60.notify.started",
    "resources.ip-10.0.0.70.params.address",
  ]);
});
