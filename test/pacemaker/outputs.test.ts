import assert from "node:assert/strict";
import { test } from "node:test";
import { cibOutput } from "../../src/pacemaker/cib-output.js";
import type { PacemakerClusterReply } from "../../src/pacemaker/cluster-view.js";
import { crmMonOutput } from "../../src/pacemaker/crm-mon-output.js";
import { locateOutput } from "../../src/pacemaker/locate-output.js";

/** db-ha: a promotable clone of redis, promoted on db1; web: stopped; g: a group on db2. */
const REPLY: PacemakerClusterReply = {
  localNode: "db1",
  stateVersion: 42,
  quorate: true,
  nodes: [
    { id: 1, name: "db1", online: true, standby: false, unclean: false },
    { id: 2, name: "db2", online: true, standby: true, unclean: false },
    { id: 3, name: "db3", online: false, standby: false, unclean: true },
  ],
  resources: [
    {
      kind: "primitive",
      copy: {
        id: "web",
        primitive: "web",
        agent: "ocf:heartbeat:nginx",
        running: [],
        failed: false,
      },
    },
    {
      kind: "group",
      group: {
        id: "g",
        members: [
          {
            id: "ip",
            primitive: "ip",
            agent: "vip",
            running: [{ node: "db2", role: "started" }],
            failed: false,
          },
        ],
      },
    },
    {
      kind: "clone",
      id: "db-ha",
      promotable: true,
      copies: [
        {
          id: "db-ha:0",
          primitive: "db",
          agent: "ocf:heartbeat:redis",
          running: [{ node: "db1", role: "promoted" }],
          failed: false,
        },
        {
          id: "db-ha:1",
          primitive: "db",
          agent: "ocf:heartbeat:redis",
          running: [{ node: "db2", role: "unpromoted" }],
          failed: true,
        },
      ],
    },
  ],
  properties: { "db-ha_REPL_INFO": "db1", quoted: 'a"<b>' },
  nodeAttributes: {
    db1: { forever: { site: "west" }, reboot: { "promotion-score-db-ha": "1000" } },
    db2: { forever: {}, reboot: {} },
  },
};

/** ocf:heartbeat:redis's master_is_active, as `grep -q -i -E` reads the output line by line. */
function redisSeesPromoted(output: string, instance: string): boolean {
  const pattern = new RegExp(
    `resource.*id="${instance}".* role="(Promoted|Master)".* active="true".* orphaned="false".* failed="false"`,
    "i",
  );
  return output.split("\n").some((line) => pattern.test(line));
}

test("crm_mon's XML lists an anonymous clone's copies under their primitive's id, as Pacemaker does, so redis's grep on any copy finds the promoted one", () => {
  for (const format of ["xml", "legacy_xml"] as const) {
    const xml = crmMonOutput(REPLY, format, "crm_mon -1 --output-as=xml");
    // Every copy of an OCF agent is told OCF_RESOURCE_INSTANCE=db (its primitive), a replica too.
    assert.equal(redisSeesPromoted(xml, "db"), true, format);
    assert.equal(redisSeesPromoted(xml, "db-ha:0"), false, format);
    assert.match(
      xml,
      /^ {6}<resource id="db" resource_agent="ocf:heartbeat:redis" role="Promoted" active="true" orphaned="false" blocked="false" managed="true" failed="false" failure_ignored="false" nodes_running_on="1">\n {8}<node name="db1" id="1" cached="true"\/>\n {6}<\/resource>$/m,
    );
    // The unpromoted, failed copy: its own line does not match.
    assert.match(xml, /<resource id="db" [^>]* role="Unpromoted" [^>]* failed="true"/);
    assert.match(xml, /<clone id="db-ha" multi_state="true" unique="false"/);
    assert.match(
      xml,
      /<resource id="web" [^>]* role="Stopped" active="false" [^>]* nodes_running_on="0"\/>/,
    );
    // pgsql's and rabbitmq's node checks.
    assert.match(xml, /<node name="db1" .* online="true"/);
    assert.match(xml, /<node name="db2" id="2" online="true" standby="true" /);
    assert.match(
      xml,
      /<node name="db3" id="3" online="false" [^>]*unclean="true"[^>]* type="member"\/>/,
    );
    assert.match(xml, /<group id="g" number_resources="1"/);
  }
  assert.match(
    crmMonOutput(REPLY, "legacy_xml", "x"),
    /^<\?xml version="1.0"\?>\n<crm_mon version="[\d.]+">\n/,
  );
  const result = crmMonOutput(REPLY, "xml", "crm_mon -1 --output-as=xml");
  assert.match(
    result,
    /^<\?xml version="1.0"\?>\n<pacemaker-result api-version="[\d.]+" request="crm_mon -1 --output-as=xml">\n/,
  );
  assert.match(result, /<status code="0" message="OK"\/>\n<\/pacemaker-result>\n$/);
});

test("crm_mon -1's text: the nodes by state and every resource with its role and nodes", () => {
  const text = crmMonOutput(REPLY, "text", "crm_mon -1");
  assert.match(text, /partition with quorum/);
  assert.match(text, /^ {2}\* Node db2: standby$/m);
  assert.match(text, /^ {2}\* Online: \[ db1 \]$/m);
  assert.match(text, /^ {2}\* OFFLINE: \[ db3 \]$/m);
  assert.match(text, /^ {2}\* web\t\(ocf:heartbeat:nginx\):\t Stopped$/m);
  assert.match(text, /^ {2}\* Clone Set: db-ha \(promotable\):$/m);
  assert.match(text, /^ {4}\* db\t\(ocf:heartbeat:redis\):\t Promoted db1$/m);
  assert.match(text, /^ {4}\* db\t\(ocf:heartbeat:redis\):\t Unpromoted db2 \(FAILED\)$/m);
  assert.match(text, /^ {2}\* Resource Group: g:\n {4}\* ip\t\(vip\):\t Started db2$/m);
});

test("crm_resource --locate: a copy, a clone or what it wraps, promoted ones marked", () => {
  assert.deepEqual(locateOutput(REPLY, "db-ha:0", false), {
    stdout: "resource db-ha:0 is running on: db1 Promoted\n",
    stderr: "",
    code: 0,
  });
  for (const name of ["db-ha", "db"]) {
    assert.equal(
      locateOutput(REPLY, name, false).stdout,
      `resource ${name} is running on: db1 Promoted\nresource ${name} is running on: db2\n`,
    );
  }
  assert.equal(locateOutput(REPLY, "g", true).stdout, "db2\n");
  assert.deepEqual(locateOutput(REPLY, "web", false), {
    stdout: "",
    stderr: "resource web is NOT running\n",
    code: 0,
  });
  assert.deepEqual(locateOutput(REPLY, "nope", false), {
    stdout: "",
    stderr: "crm_resource: Resource 'nope' not found\n",
    code: 6,
  });
});

test("cibadmin -Q: cluster properties, nodes with their attributes, their state and transient ones", () => {
  const cib = cibOutput(REPLY, undefined);
  assert.match(
    cib,
    /^<cib crm_feature_set="[\d.]+" validate-with="pacemaker-3.9" epoch="42" num_updates="0" admin_epoch="0" have-quorum="1">\n {2}<configuration>\n {4}<crm_config>\n {6}<cluster_property_set id="cib-bootstrap-options">\n/,
  );
  assert.match(
    cib,
    /<nvpair id="cib-bootstrap-options-db-ha_REPL_INFO" name="db-ha_REPL_INFO" value="db1"\/>/,
  );
  assert.match(cib, /name="quoted" value="a&quot;&lt;b&gt;"/);
  assert.match(
    cib,
    /<node id="1" uname="db1">\n\s+<instance_attributes id="nodes-1">\n\s+<nvpair id="nodes-1-site" name="site" value="west"\/>/,
  );
  assert.match(
    cib,
    /<node_state id="1" uname="db1" in_ccm="true" crmd="online" join="member" expected="member">\n\s+<transient_attributes id="1">\n\s+<instance_attributes id="status-1">\n\s+<nvpair id="status-1-promotion-score-db-ha" name="promotion-score-db-ha" value="1000"\/>/,
  );
  assert.match(
    cib,
    /<node_state id="3" uname="db3" in_ccm="false" crmd="offline" join="down" expected="member"\/>/,
  );
  assert.doesNotMatch(cib, /<resources|<constraints/);
  assert.equal(
    cibOutput(REPLY, "crm_config"),
    [
      "<crm_config>",
      '  <cluster_property_set id="cib-bootstrap-options">',
      '    <nvpair id="cib-bootstrap-options-db-ha_REPL_INFO" name="db-ha_REPL_INFO" value="db1"/>',
      '    <nvpair id="cib-bootstrap-options-quoted" name="quoted" value="a&quot;&lt;b&gt;"/>',
      "  </cluster_property_set>",
      "</crm_config>",
      "",
    ].join("\n"),
  );
});
