import assert from "node:assert/strict";
import { test } from "node:test";
import { pacemakerdVersionText } from "../../src/pacemaker/crm-feature-set.js";
import { UsageError } from "../../src/pacemaker/getopt.js";
import { banWarning } from "../../src/pacemaker/locate-output.js";
import { nodesOutput } from "../../src/pacemaker/nodes-output.js";
import {
  planOf,
  propertyQueryOutput,
  queryOutput,
  type ShimEnvironment,
  type ShimPlan,
} from "../../src/pacemaker/plans.js";

const ENV: ShimEnvironment = { node: "db1", clone: "redis", instance: "redis:1" };

function plan(line: string, env: ShimEnvironment = ENV): ShimPlan {
  const [command = "", ...args] = line.split(" ").filter((word) => word !== "");
  return planOf(command, args, env);
}

test("crm_master sets, reads and deletes this copy's promotion score on its node", () => {
  assert.deepEqual(plan("crm_master -l reboot -v 10"), {
    kind: "update",
    target: { node: "db1", name: "promotion-score-redis", lifetime: "reboot" },
    value: "10",
  });
  // redis: crm_master -N "$node" -l reboot -G --quiet; forever is a transient score too.
  assert.deepEqual(plan("crm_master -N db2 -l forever -G --quiet"), {
    kind: "query",
    target: { node: "db2", name: "promotion-score-redis", lifetime: "reboot" },
    style: "crm_attribute",
    quiet: true,
  });
  assert.deepEqual(plan("crm_master -l reboot -D"), {
    kind: "delete",
    target: { node: "db1", name: "promotion-score-redis", lifetime: "reboot" },
  });
});

test("crm_master names the clone from -r, VIGIL_CLONE or the instance without its copy number", () => {
  const nameOf = (line: string, env: ShimEnvironment) => {
    const planned = plan(line, env);
    assert.equal(planned.kind, "update");
    return planned.kind === "update" ? planned.target.name : "";
  };
  assert.equal(nameOf("crm_master -v 1 -r db:3", ENV), "promotion-score-db");
  assert.equal(nameOf("crm_master -v 1", { node: "db1", instance: "pg:0" }), "promotion-score-pg");
  assert.throws(() => plan("crm_master -v 1", { node: "db1" }), /OCF_RESOURCE_INSTANCE/);
});

test("an OCF copy's promotion score by Pacemaker's names: crm_attribute -p with its instance, and master-<resource> for any node", () => {
  // An OCF copy's OCF_RESOURCE_INSTANCE is the primitive it copies, as in Pacemaker.
  const PGSQL: ShimEnvironment = { node: "db1", clone: "pgsql-ha", instance: "pgsql" };
  const score = (node: string) => ({ node, name: "promotion-score-pgsql-ha", lifetime: "reboot" });
  // ocf_promotion_score (ocf-shellfuncs) above feature set 3.10: crm_attribute -p "$@".
  assert.deepEqual(plan("crm_attribute -p -v 1000", PGSQL), {
    kind: "update",
    target: score("db1"),
    value: "1000",
  });
  assert.deepEqual(plan("crm_attribute --promotion=pgsql -v 1000", PGSQL), {
    kind: "update",
    target: score("db1"),
    value: "1000",
  });
  // pgsql's primary reads and lowers its replicas' scores (set_master_score).
  assert.deepEqual(plan("crm_attribute -l reboot -N db2 -n master-pgsql -G -q", PGSQL), {
    kind: "query",
    target: score("db2"),
    style: "crm_attribute",
    quiet: true,
  });
  assert.deepEqual(plan("crm_attribute -l reboot -N db3 -n master-pgsql -v -INFINITY", PGSQL), {
    kind: "update",
    target: score("db3"),
    value: "-INFINITY",
  });
  assert.deepEqual(plan("crm_attribute -l forever -N db3 -n master-pgsql-ha:1 -D", PGSQL), {
    kind: "delete",
    target: score("db3"),
  });
  // Another resource's master-… is an attribute like any other; so it is outside a clone's copy.
  assert.deepEqual(plan("crm_attribute -l reboot -N db2 -n master-other -v 5", PGSQL), {
    kind: "update",
    target: { node: "db2", name: "master-other", lifetime: "reboot" },
    value: "5",
  });
  assert.deepEqual(plan("crm_attribute -l reboot -n master-pgsql -v 5", { node: "db1" }), {
    kind: "update",
    target: { node: "db1", name: "master-pgsql", lifetime: "reboot" },
    value: "5",
  });
});

test("pacemakerd -$ gives the release (ocf_local_nodename then asks crm_node -n); the daemon's other uses are refused", () => {
  assert.deepEqual(plan("pacemakerd -$"), { kind: "version" });
  assert.deepEqual(plan("pacemakerd --version"), { kind: "version" });
  assert.deepEqual(plan("pacemakerd -f"), { kind: "refused", what: "pacemakerd -f" });
  assert.deepEqual(plan("pacemakerd"), { kind: "refused", what: "pacemakerd" });
  // ocf_local_nodename: `pacemakerd -$ | grep "Pacemaker .*" | awk '{ print $2 }'` is one word.
  const words = pacemakerdVersionText()
    .split("\n")
    .filter((line) => /Pacemaker .*/.test(line))
    .map((line) => line.split(/\s+/)[1]);
  assert.deepEqual(words, ["2.1.5"]);
});

test("crm_attribute reads every spelling agents use, and picks the section as Pacemaker does", () => {
  const transient = { node: "db2", name: "x-last-committed", lifetime: "reboot" };
  for (const line of [
    "crm_attribute -N db2 -l reboot --name x-last-committed -v 42",
    "crm_attribute --node=db2 --lifetime=reboot --name=x-last-committed --update=42",
    "crm_attribute -Ndb2 -lreboot -nx-last-committed -v42",
    "crm_attribute -N db2 -t status -n x-last-committed -v 42",
  ]) {
    assert.deepEqual(plan(line), { kind: "update", target: transient, value: "42" }, line);
  }
  // No command is a query; a node without a lifetime is the configured (forever) section.
  assert.deepEqual(plan("crm_attribute -N db2 --name port -Gq"), {
    kind: "query",
    target: { node: "db2", name: "port", lifetime: "forever" },
    style: "crm_attribute",
    quiet: true,
  });
  assert.deepEqual(plan("crm_attribute -l forever -n rack -d r1"), {
    kind: "query",
    target: { node: "db1", name: "rack", lifetime: "forever" },
    style: "crm_attribute",
    quiet: false,
    default: "r1",
  });
  assert.deepEqual(plan("crm_attribute -l reboot -n x -D"), {
    kind: "delete",
    target: { node: "db1", name: "x", lifetime: "reboot" },
  });
  // ocf_promotion_score below feature set 3.10: crm_attribute -p.
  assert.deepEqual(plan("crm_attribute -p -v 7"), {
    kind: "update",
    target: { node: "db1", name: "promotion-score-redis", lifetime: "reboot" },
    value: "7",
  });
  assert.deepEqual(plan("crm_attribute --promotion=web -G -q").kind, "query");
});

test("crm_attribute --type crm_config sets, reads and removes cluster properties", () => {
  // ocf:heartbeat:redis's CRM_ATTR_REPL_INFO, word for word.
  const replInfo = "crm_attribute --type crm_config --name r_REPL_INFO -s redis_replication";
  assert.deepEqual(plan(`${replInfo} -v db1 -q`), {
    kind: "property_update",
    name: "r_REPL_INFO",
    value: "db1",
  });
  assert.deepEqual(plan(`${replInfo} --query  -q`), {
    kind: "property_query",
    name: "r_REPL_INFO",
    quiet: true,
  });
  assert.deepEqual(plan("crm_attribute -t crm_config -n x -D"), {
    kind: "property_update",
    name: "x",
    value: null,
  });
  // Neither a node nor a lifetime: crm_config, as with Pacemaker.
  assert.deepEqual(plan("crm_attribute -n x -v 1"), {
    kind: "property_update",
    name: "x",
    value: "1",
  });
  assert.deepEqual(plan("crm_attribute -n x -G -d 0"), {
    kind: "property_query",
    name: "x",
    quiet: false,
    default: "0",
  });
  assert.throws(() => plan("crm_attribute --type crm_config -v 1"), /--name is required/);
});

test("crm_resource --ban keeps a resource off a node (by default this one); its other uses are refused", () => {
  // pgsql's pre-promote, when its data is newer than the copy about to be promoted.
  assert.deepEqual(plan("crm_resource -B -r pgsql -N db2 -Q"), {
    kind: "ban",
    resource: "pgsql",
    node: "db2",
    quiet: true,
  });
  assert.deepEqual(plan("crm_resource --ban --resource web"), {
    kind: "ban",
    resource: "web",
    node: "db1",
    quiet: false,
  });
  assert.throws(() => plan("crm_resource --ban"), /--ban needs --resource/);
  assert.deepEqual(plan("crm_resource --clear -r web"), {
    kind: "refused",
    what: "crm_resource --clear -r web",
  });
  assert.deepEqual(plan("crm_resource -W -r web -N db2"), {
    kind: "refused",
    what: "crm_resource -W -r web -N db2",
  });
  assert.match(
    banWarning("web", "db2"),
    /^WARNING: Creating rsc_location constraint 'cli-ban-web-on-db2'/,
  );
});

test("an unset cluster property is exit 6 with Pacemaker's message", () => {
  const query = plan("crm_attribute --type crm_config --name x --query") as Extract<
    ShimPlan,
    { kind: "property_query" }
  >;
  assert.deepEqual(propertyQueryOutput(query, null), {
    stdout: "scope=crm_config  name=x value=(null)\n",
    stderr: "Error performing operation: No such device or address\n",
    code: 6,
  });
  assert.deepEqual(propertyQueryOutput({ ...query, quiet: true }, "db2"), {
    stdout: "db2\n",
    stderr: "",
    code: 0,
  });
});

test("crm_mon -1: text, --as-xml (-X) and --output-as=xml, always one-shot as XML", () => {
  assert.deepEqual(plan("crm_mon -1"), { kind: "crm_mon", format: "text", request: "crm_mon -1" });
  assert.equal((plan("crm_mon -1 --as-xml") as { format: string }).format, "legacy_xml");
  assert.equal((plan("crm_mon -1X") as { format: string }).format, "legacy_xml");
  assert.equal((plan("crm_mon -r --as-xml") as { format: string }).format, "legacy_xml");
  assert.deepEqual(plan("crm_mon -1 --output-as=xml"), {
    kind: "crm_mon",
    format: "xml",
    request: "crm_mon -1 --output-as=xml",
  });
  assert.equal((plan("crm_mon -1 --output-as text") as { format: string }).format, "text");
  // Without -1 crm_mon redraws the screen forever; the options it has that Vigil does not give.
  assert.deepEqual(plan("crm_mon"), { kind: "refused", what: "crm_mon" });
  assert.deepEqual(plan("crm_mon -1 -f"), { kind: "refused", what: "crm_mon -1 -f" });
  assert.deepEqual(plan("crm_mon -1 --show-node-attributes"), {
    kind: "refused",
    what: "crm_mon -1 --show-node-attributes",
  });
  assert.throws(() => plan("crm_mon -1 --output-as=html"), /--output-as must be text or xml/);
  assert.throws(() => plan("crm_mon -1 --output-as"), /--output-as needs a value/);
});

test("crm_resource --locate and cibadmin -Q; their other uses are refused naming them", () => {
  assert.deepEqual(plan("crm_resource --locate -r db-ha:0"), {
    kind: "locate",
    resource: "db-ha:0",
    quiet: false,
  });
  assert.deepEqual(plan("crm_resource -W -Q --resource=web"), {
    kind: "locate",
    resource: "web",
    quiet: true,
  });
  assert.throws(() => plan("crm_resource -W"), /--locate needs --resource/);
  assert.deepEqual(plan("crm_resource -W -r web -N db1"), {
    kind: "refused",
    what: "crm_resource -W -r web -N db1",
  });
  assert.deepEqual(plan("cibadmin -Q"), { kind: "cib_query" });
  assert.deepEqual(plan("cibadmin -Q -o crm_config -l"), {
    kind: "cib_query",
    scope: "crm_config",
  });
  assert.deepEqual(plan("cibadmin --query --scope resources"), {
    kind: "refused",
    what: "cibadmin --scope resources",
  });
  assert.deepEqual(plan("cibadmin -Q --xpath //node_state"), {
    kind: "refused",
    what: "cibadmin -Q --xpath //node_state",
  });
  assert.deepEqual(plan("cibadmin -R -x cib.xml"), {
    kind: "refused",
    what: "cibadmin -R -x cib.xml",
  });
});

test("crm_attribute refuses what Vigil does not provide, naming it", () => {
  assert.deepEqual(plan("crm_attribute -t nodes -N db1 -z -n cpu -v 4"), {
    kind: "refused",
    what: "crm_attribute --utilization",
  });
});

test("attrd_updater updates, queries and deletes the node's transient attributes", () => {
  const target = { node: "db1", name: "gtid", lifetime: "reboot" };
  assert.deepEqual(plan("attrd_updater -p -n gtid -U 5"), { kind: "update", target, value: "5" });
  assert.deepEqual(plan("attrd_updater -n gtid -v 5"), { kind: "update", target, value: "5" });
  assert.deepEqual(plan("attrd_updater -p --name gtid --node db2 --query"), {
    kind: "query",
    target: { ...target, node: "db2" },
    style: "attrd_updater",
    quiet: false,
  });
  assert.deepEqual(plan("attrd_updater -n gtid -D"), { kind: "delete", target });
  assert.deepEqual(plan("attrd_updater -n gtid -R"), {
    kind: "refused",
    what: "attrd_updater --refresh",
  });
  assert.throws(() => plan("attrd_updater -n gtid"), UsageError);
});

test("crm_node answers its name here and asks the agent for the rest", () => {
  assert.deepEqual(plan("crm_node -n"), { kind: "node_name", node: "db1" });
  assert.deepEqual(plan("crm_node -l"), { kind: "node_list" });
  assert.deepEqual(plan("crm_node -l -p"), { kind: "partition" });
  assert.deepEqual(plan("crm_node -q"), { kind: "quorum" });
  assert.deepEqual(plan("crm_node -i"), { kind: "refused", what: "crm_node --cluster-id" });
  const reply = {
    nodes: [
      { id: 1, name: "db1", member: true },
      { id: 2, name: "db2", member: false },
      { id: 3, name: "db3", member: true },
    ],
    quorate: true,
  };
  assert.equal(nodesOutput("node_list", reply), "1 db1 member\n2 db2 lost\n3 db3 member\n");
  assert.equal(nodesOutput("partition", reply), "db1 db3\n");
  assert.equal(nodesOutput("quorum", reply), "1\n");
  assert.equal(nodesOutput("quorum", { ...reply, quorate: false }), "0\n");
});

test("other Pacemaker commands are refused with their arguments", () => {
  assert.deepEqual(plan("crm_resource --cleanup -r web"), {
    kind: "refused",
    what: "crm_resource --cleanup -r web",
  });
  assert.deepEqual(plan("stonith_admin -L").kind, "refused");
});

test("bad arguments are usage errors naming the option", () => {
  assert.throws(() => plan("crm_attribute -N db1 -x"), /unknown option -x/);
  assert.throws(() => plan("crm_attribute --bogus"), /unknown option --bogus/);
  assert.throws(() => plan("crm_attribute -N db1 -n"), /-n needs a value/);
  assert.throws(() => plan("crm_master -l sometimes -v 1"), /reboot or forever/);
  assert.throws(() => plan("crm_node"), /one of -n, -l, -p or -q/);
});

test("queries print as Pacemaker does: bare with -q, exit 6 and its message when unset", () => {
  const query = plan("crm_attribute -N db2 -l reboot -n score -G") as Extract<
    ShimPlan,
    { kind: "query" }
  >;
  assert.deepEqual(queryOutput(query, "10"), {
    stdout: "scope=status  name=score value=10\n",
    stderr: "",
    code: 0,
  });
  assert.deepEqual(queryOutput({ ...query, quiet: true }, "10"), {
    stdout: "10\n",
    stderr: "",
    code: 0,
  });
  assert.deepEqual(queryOutput({ ...query, quiet: true }, null), {
    stdout: "",
    stderr: "Error performing operation: No such device or address\n",
    code: 6,
  });
  assert.equal(
    queryOutput({ ...query, default: "0" }, null).stdout,
    "scope=status  name=score value=0\n",
  );
  const attrd = plan("attrd_updater -n gtid -Q -N db2") as Extract<ShimPlan, { kind: "query" }>;
  assert.deepEqual(queryOutput(attrd, "5"), {
    stdout: 'name="gtid" host="db2" value="5"\n',
    stderr: "",
    code: 0,
  });
  assert.equal(queryOutput(attrd, null).code, 6);
});
