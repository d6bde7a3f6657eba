#!/usr/bin/env node
import { Command, Option } from "commander";
import { action } from "./errors.js";
import { VIGIL_VERSION } from "./version.js";

/**
 * A command's module is loaded when that command runs, not at every start: `vigil status`,
 * `vigil where` and `vigil check` are what scripts and health checks call again and again, and
 * loading the agent, the policy engine and the demo for them cost more CPU than the command.
 */
function lazyAction<M, A extends unknown[]>(
  load: () => Promise<M>,
  pick: (module: M) => (...args: A) => Promise<void>,
) {
  return action(async (...args: A) => pick(await load())(...args));
}

function logLevelOption(): Option {
  return new Option("--log-level <level>", "log level").choices([
    "trace",
    "debug",
    "info",
    "warn",
    "error",
  ]);
}

/** Every command that talks to the local agent finds its control socket the same way. */
function controlSocketOptions(command: Command): Command {
  return command
    .option("--socket <path>", "control socket of the local agent")
    .option("-c, --config <path>", "agent configuration file to read the control socket from");
}

const program = new Command()
  .name("vigil")
  .description("Vigil high-availability cluster manager")
  .version(VIGIL_VERSION)
  .showHelpAfterError("(run vigil --help for usage)");

program
  .command("agent")
  .description(
    "run the agent in the foreground (SIGTERM/SIGINT: leave the cluster cleanly; SIGHUP: reload the keys and the API tokens)",
  )
  .option(
    "-c, --config <path>",
    "configuration file (default /etc/vigil/vigil.yaml or $VIGIL_CONFIG)",
  )
  .option("-n, --node <name>", "which node of the config this is (default: the host name)")
  .option("--socket <path>", "control socket (overrides control.socket)")
  .option("--state-dir <dir>", "state directory (overrides state_dir)")
  .addOption(logLevelOption())
  .action(
    lazyAction(
      () => import("./commands/agent.js"),
      (m) => m.runAgent,
    ),
  );

controlSocketOptions(
  program
    .command("status")
    .description("show nodes, links, round-trip times and loss as the local agent sees them")
    .option("--json", "print the raw status as JSON (with --watch: one JSON object per line)")
    .option("--watch", "refresh in place until Ctrl-C (on a pipe: successive snapshots)")
    .option("--interval-ms <ms>", "with --watch: how often to refresh (default 1000)"),
).action(
  lazyAction(
    () => import("./commands/status.js"),
    (m) => m.runStatus,
  ),
);

controlSocketOptions(
  program
    .command("events")
    .description(
      "show the cluster's events in their cluster-wide order, each with the node that saw it",
    )
    .option("--follow", "keep printing new events until Ctrl-C")
    .option("--json", "print one JSON object per event per line")
    .option("--interval-ms <ms>", "with --follow: how often to ask the agent (default 1000)"),
).action(
  lazyAction(
    () => import("./commands/events.js"),
    (m) => m.runEvents,
  ),
);

controlSocketOptions(
  program
    .command("check")
    .description("report on a TTL health check to this node's agent (an application's heartbeat)")
    .argument("<status>", "pass, warn or fail")
    .argument("<name>", "the check, as named in the configuration's checks")
    .option("--note <text>", "a line the check's status shows"),
).action(
  lazyAction(
    () => import("./commands/check.js"),
    (m) => m.runCheckReport,
  ),
);

controlSocketOptions(
  program
    .command("where")
    .description("show the nodes a resource's copies run on, and in which role")
    .argument("<resource>", "a primitive, group or clone of the committed configuration")
    .option("--json", "print the reply as JSON (GET /v1/where; with --follow one object a line)")
    .option("--follow", "print the answer again whenever it changes, until Ctrl-C"),
).action(
  lazyAction(
    () => import("./commands/where.js"),
    (m) => m.runWhere,
  ),
);

program
  .command("witness")
  .description(
    "run the tie-breaking witness vote of one or more clusters (two-node clusters need one on a third machine)",
  )
  .requiredOption(
    "-c, --config <path>",
    "a cluster's configuration file; repeat for every cluster this witness serves",
    (value: string, previous: string[] = []) => [...previous, value],
  )
  .option(
    "-n, --node <name>",
    "the witness node's name in the configs (default: the one witness node)",
  )
  .addOption(logLevelOption())
  .action(
    lazyAction(
      () => import("./commands/witness.js"),
      (m) => m.runWitness,
    ),
  );

const quorum = program.command("quorum").description("this node's part in the quorum");
controlSocketOptions(
  quorum
    .command("unblock")
    .description(
      "stop waiting for nodes not seen since this agent started (wait_for_all), e.g. one lost for good",
    ),
).action(
  lazyAction(
    () => import("./commands/quorum.js"),
    (m) => m.quorumUnblock,
  ),
);

const node = program
  .command("node")
  .description("change the cluster's voting membership, or put a node in standby");
for (const change of ["add", "remove"] as const) {
  controlSocketOptions(
    node
      .command(`${change} <name>`)
      .description(
        change === "add"
          ? "make a node of the configuration a voting member (one change at a time)"
          : "stop counting a node's vote (one change at a time)",
      ),
  ).action(
    lazyAction(
      () => import("./commands/node-membership.js"),
      (m) => m.nodeMembershipCommand(change),
    ),
  );
}

for (const [name, standby] of [
  ["standby", true],
  ["online", false],
] as const) {
  controlSocketOptions(
    node
      .command(`${name} <name>`)
      .description(
        standby
          ? "put a node in standby: it keeps its vote, resources leave it"
          : "take a node out of standby",
      ),
  ).action(
    lazyAction(
      () => import("./commands/runtime-switches.js"),
      (m) => m.nodeStandbyCommand(standby),
    ),
  );
}

const session = program
  .command("session")
  .description("applications' sessions (docs/api.md, Sessions and locks)")
  .showHelpAfterError("(run vigil session --help for usage)");
controlSocketOptions(
  session
    .command("list")
    .description("show the open sessions, their locks, and the sessions that ended lately")
    .option("--json", "print the reply as JSON (GET /v1/sessions)"),
).action(
  lazyAction(
    () => import("./commands/session.js"),
    (m) => m.runSessionList,
  ),
);
const lock = program
  .command("lock")
  .description("applications' locks (docs/api.md, Sessions and locks)")
  .showHelpAfterError("(run vigil lock --help for usage)");
controlSocketOptions(
  lock
    .command("list")
    .description("show each lock's holder, or until when it waits out its lock-delay")
    .option("--json", "print the reply as JSON (GET /v1/locks)"),
).action(
  lazyAction(
    () => import("./commands/session.js"),
    (m) => m.runLockList,
  ),
);

const resource = program
  .command("resource")
  .description("move, ban, stop, start, restart or clean up one resource")
  .showHelpAfterError("(run vigil resource --help for usage)");
controlSocketOptions(
  resource
    .command("move <resource> [node]")
    .description(
      "make a resource prefer a node (+INFINITY); without a node, ban it from the node it runs on (undo: resource clear)",
    ),
).action(
  lazyAction(
    () => import("./commands/resource.js"),
    (m) => m.runResourceMove,
  ),
);
controlSocketOptions(
  resource
    .command("ban <resource> [node]")
    .description(
      "keep a resource off a node (default: the node it runs on now; undo: resource clear)",
    ),
).action(
  lazyAction(
    () => import("./commands/resource.js"),
    (m) => m.runResourceBan,
  ),
);
controlSocketOptions(
  resource
    .command("clear <resource>")
    .description("forget the operators' moves and bans of a resource"),
).action(
  lazyAction(
    () => import("./commands/resource.js"),
    (m) => m.runResourceClear,
  ),
);
for (const [name, stopped] of [
  ["stop", true],
  ["start", false],
] as const) {
  controlSocketOptions(
    resource
      .command(`${name} <resource>`)
      .description(
        stopped
          ? "stop a resource everywhere and keep it stopped (undo: resource start)"
          : "let a resource stopped with resource stop run again",
      ),
  ).action(
    lazyAction(
      () => import("./commands/resource.js"),
      (m) => m.resourceRoleCommand(stopped),
    ),
  );
}
controlSocketOptions(
  resource
    .command("restart <resource>")
    .description(
      "stop a resource everywhere, wait until it is stopped, start it, wait until it runs",
    )
    .option("--timeout <seconds>", "how long to wait for each of the stop and the start", "60"),
).action(
  lazyAction(
    () => import("./commands/resource.js"),
    (m) => m.runResourceRestart,
  ),
);
controlSocketOptions(
  resource
    .command("cleanup <resource>")
    .description(
      "forget a resource's failures (everywhere, or on one node); a group's name cleans its members, a clone's name every copy, CLONE:N one copy (copies are numbered from 0; a cloned group's members are CLONE:N/MEMBER)",
    )
    .option("--node <name>", "only on this node"),
).action(
  lazyAction(
    () => import("./commands/runtime-switches.js"),
    (m) => m.runResourceCleanup,
  ),
);

controlSocketOptions(
  program
    .command("fence <node> [confirmed-node]")
    .usage("NODE | confirm NODE | check")
    .description(
      "fence NODE now with its configured devices; `fence confirm NODE`: you made sure NODE is off, its resources may run elsewhere (sites without a fence device); `fence check`: run every device's monitor now (exit 1 if one fails)",
    ),
).action(
  lazyAction(
    () => import("./commands/fence.js"),
    (m) => m.runFence,
  ),
);

controlSocketOptions(
  program
    .command("maintenance <on|off>")
    .description("stop managing resources (nothing is stopped), or resume"),
).action(
  lazyAction(
    () => import("./commands/runtime-switches.js"),
    (m) => m.runMaintenance,
  ),
);

controlSocketOptions(
  program
    .command("explain <resource>")
    .description("show every node's score for a resource and the reasons behind it")
    .option("--json", "print the score lines as JSON"),
).action(
  lazyAction(
    () => import("./commands/policy.js"),
    (m) => m.runExplain,
  ),
);

controlSocketOptions(
  program
    .command("simulate")
    .description("show what the cluster would do after a change, doing nothing")
    .option("--fail <node>", "the node dies (and is fenced)")
    .option("--standby <node>", "the node is put in standby")
    .option("--resource-fail <resource@node>", "the resource fails its monitor on that node")
    .option("--json", "print the placement and actions as JSON"),
).action(
  lazyAction(
    () => import("./commands/policy.js"),
    (m) => m.runSimulate,
  ),
);

const config = program.command("config").description("work with the configuration file");
config
  .command("validate [path]")
  .description("check a configuration file and explain every problem with its line")
  .action(
    lazyAction(
      () => import("./commands/config-validate.js"),
      (m) => m.runConfigValidate,
    ),
  );
controlSocketOptions(
  config
    .command("apply <file>")
    .description(
      "replace the cluster's replicated configuration (resources, constraints) from any node; refused if it changed since you read it",
    )
    .option(
      "--base-version <n>",
      "the configuration version your change is based on (default: the current one)",
    ),
).action(
  lazyAction(
    () => import("./commands/cluster-config.js"),
    (m) => m.runConfigApply,
  ),
);
controlSocketOptions(
  config
    .command("show")
    .description("print the cluster's committed configuration and its version")
    .option("--json", "print it as JSON, with version, author and time"),
).action(
  lazyAction(
    () => import("./commands/cluster-config.js"),
    (m) => m.runConfigShow,
  ),
);

const importCommand = program
  .command("import")
  .description(
    "translate a Heartbeat or keepalived configuration into a Vigil cluster file and resource document (docs/migration.md)",
  )
  .showHelpAfterError("(run vigil import --help for usage)");
/** Options both importers take. */
function importOptions(command: Command): Command {
  return command
    .requiredOption("--out-dir <dir>", "where to write vigil.yaml and resources.yaml")
    .option("--force", "replace vigil.yaml and resources.yaml if they exist")
    .option("--cluster <name>", "the cluster's name (default: migrated)")
    .option(
      "--witness <name[=address]>",
      "the witness node a two-node cluster needs (run with vigil witness on a third machine)",
    );
}
const collect = (value: string, previous: string[] = []) => [...previous, value];
importOptions(
  importCommand
    .command("heartbeat")
    .description("ha.cf, haresources and authkeys of Linux-HA Heartbeat (v1 resources)")
    .requiredOption("--ha-cf <file>", "ha.cf")
    .requiredOption("--haresources <file>", "haresources")
    .option("--authkeys <file>", "authkeys (its keys are not carried over: listed with why)")
    .option(
      "--address <node=ip>",
      "which node a ucast line's address belongs to (repeat)",
      collect,
    ),
).action(
  lazyAction(
    () => import("./commands/import.js"),
    (m) => m.runImportHeartbeat,
  ),
);
importOptions(
  importCommand
    .command("keepalived [file]")
    .description(
      "keepalived.conf: one node's file, or each node's with --node NAME=FILE (VRRP instances, scripts, virtual servers)",
    )
    .option("--node <name=file>", "a node's keepalived.conf (repeat for each node)", collect),
).action(
  lazyAction(
    () => import("./commands/import.js"),
    (m) => m.runImportKeepalived,
  ),
);

program
  .command("init")
  .description("write the cluster file and key of a new cluster, explaining each choice")
  .requiredOption("--cluster <name>", "cluster name")
  .option(
    "--node <name=addresses>",
    "a node and its address on each link, e.g. db1=10.0.0.11,10.1.0.11 (repeat per node)",
    (value: string, previous: string[]) => [...previous, value],
    [] as string[],
  )
  .option("--witness <name=addresses>", "a witness: the third vote of a two-node cluster")
  .option("--profile <name>", "timing profile: default or fast", "default")
  .option("-o, --out <path>", "cluster file to write (default /etc/vigil/vigil.yaml)")
  .option("--key <path>", "key file, created when missing (default /etc/vigil/authkeys)")
  .option("--force", "replace an existing cluster file")
  .action(
    lazyAction(
      () => import("./commands/init.js"),
      (m) => m.runInit,
    ),
  );

program
  .command("keygen")
  .description("create the cluster key file (mode 0600), or add a newer key to it for rotation")
  .option("-f, --file <path>", "key file (default /etc/vigil/authkeys)")
  .option("--id <n>", "key id, 1-255 (default: one more than the newest)")
  .action(
    lazyAction(
      () => import("./commands/keygen.js"),
      (m) => m.runKeygen,
    ),
  );

program
  .command("demo")
  .description("start a 3-node cluster on this machine and watch it detect failures")
  .option("--nodes <n>", "number of nodes", "3")
  .option(
    "--dir <dir>",
    "where to keep the demo's config, keys, state and logs (default: a temp dir)",
  )
  .option("--profile <name>", "timing profile: default or fast", "default")
  .action(
    lazyAction(
      () => import("./commands/demo.js"),
      (m) => m.runDemo,
    ),
  );

program
  .command("guard", { hidden: true })
  .description(
    "node guard, started by the agent: reads hold/drop/lease/alive/idle/bye lines on stdin; when the agent dies, hangs or outlives its lease while resources may run here, SIGKILLs it and stops them; runs the self-fence action only if that fails",
  )
  .requiredOption("--agent-pid <pid>", "the agent's process id")
  .option("--hang-ms <ms>", "silence after which a guarding agent counts as hung")
  .option("--node <name>", "this node's name, for the resource agents")
  .option("--action <command>", 'self-fence command line, e.g. "systemctl reboot --force --force"')
  .option("--watchdog-device <path>", "a watchdog device to feed while healthy, e.g. /dev/watchdog")
  .action(
    lazyAction(
      () => import("./commands/guard.js"),
      (m) => m.runGuardCommand,
    ),
  );

program
  .command("man", { hidden: true })
  .description("print the vigil(8) manual page (roff) built from every command's --help")
  .action(
    lazyAction(
      () => import("./man-page.js"),
      (m) => async () => {
        process.stdout.write(m.renderManPage(program, VIGIL_VERSION));
      },
    ),
  );

await program.parseAsync(process.argv);
