/**
 * The director agent through the executor: the commands it runs (a recording runner), then real
 * nft in a network namespace (root only): start programs the table, a verdict reprograms it,
 * monitor finds it, stop removes exactly it, and everything twice changes nothing.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AgentRef, OperationName } from "../../src/resource-model/types.js";
import {
  type VirtualService,
  virtualServiceParams,
} from "../../src/resource-model/virtual-service.js";
import { CheckVerdicts } from "../../src/resources/agents/director/check-verdicts.js";
import {
  DirectorAgent,
  type DirectorAgentOptions,
} from "../../src/resources/agents/director/director-agent.js";
import { directorRules } from "../../src/resources/agents/director/director-rules.js";
import { nftApplyScript } from "../../src/resources/agents/director/nft-script.js";
import { OCF_ERR_CONFIGURED, OCF_ERR_INSTALLED } from "../../src/resources/agents/ocf-codes.js";
import { Executor } from "../../src/resources/executor/executor.js";
import {
  ChildProcessRunner,
  type CommandSpec,
  type ProcessOutcome,
  type ProcessRunner,
} from "../../src/resources/executor/process-runner.js";
import { waitFor } from "../support/wait.js";
import { WEB } from "./director-fixtures.js";
import { ip, isRoot, NetnsRunner, randomSuffix, steppingClock } from "./support.js";

const DIRECTOR: AgentRef = { kind: "director", name: "director" };
/** Two checked servers, weights 2 and 1: with both failing, the sorry server. */
const SERVICE: VirtualService = {
  ...WEB,
  realServers: [
    { address: "198.18.1.11", port: 8080, weight: 2, check: "web1" },
    { address: "198.18.1.12", port: 8080, weight: 1, check: "web2" },
  ],
};

/** Answers like nft and ipvsadm would on a node where `tables` are the tables in place. */
class RecordingRunner implements ProcessRunner {
  readonly commands: string[] = [];
  present = false;
  /** Programs not installed here. */
  readonly missing = new Set<string>();

  async run(command: CommandSpec): Promise<ProcessOutcome> {
    const line = [command.file, ...command.args].join(" ");
    this.commands.push(command.stdin === undefined ? line : `${line} <<${command.stdin}`);
    if (this.missing.has(command.file))
      return {
        exitCode: null,
        exitSignal: null,
        timedOut: false,
        spawnError: { code: "ENOENT", message: `spawn ${command.file} ENOENT` },
        stdout: "",
        stderrTail: "",
      };
    const listing = command.args[0] === "list" || command.args[0] === "-L";
    const ok = !listing || this.present;
    return {
      exitCode: ok ? 0 : 1,
      exitSignal: null,
      timedOut: false,
      stdout: "",
      stderrTail: ok ? "" : "Error: No such file or directory",
    };
  }

  take(): string[] {
    return this.commands.splice(0);
  }
}

function setup(options: DirectorAgentOptions = {}, service = SERVICE) {
  const runner = new RecordingRunner();
  const verdicts = new CheckVerdicts();
  const agent = new DirectorAgent({ verdicts, forwarding: () => true, ...options });
  const executor = new Executor({ clock: steppingClock(), runner, createAgent: () => agent });
  const params = virtualServiceParams(service);
  const run = (operation: OperationName) =>
    executor.run("web-lvs", { operation, agent: DIRECTOR, params, timeoutMs: 5_000 });
  return { runner, verdicts, run };
}

const dnatOf = (command: string | undefined) => /dnat .*/.exec(command ?? "")?.[0];

describe("the director agent's commands", () => {
  test("nftables: start programs, a failing check reprograms at once, stop removes, then verdicts change nothing", async () => {
    const { runner, verdicts, run } = setup({ ipvsPresent: () => false });
    assert.equal((await run("start")).outcome, "success");
    const [started, ...more] = runner.take();
    assert.deepEqual(more, []);
    assert.match(
      started ?? "",
      /^nft -f - <<table ip vigil-lvs-web-lvs \{\}\ndelete table ip vigil-lvs-web-lvs\n/,
    );
    assert.equal(
      dnatOf(started),
      "dnat ip to numgen inc mod 3 map { 0 : 198.18.1.11 . 8080, 1 : 198.18.1.12 . 8080, 2 : 198.18.1.11 . 8080 }",
    );

    verdicts.set("web1", "failing");
    const [reprogrammed] = await waitFor("the reprogramming", async () =>
      runner.commands.length > 0 ? runner.take() : undefined,
    );
    assert.equal(dnatOf(reprogrammed), "dnat ip to 198.18.1.12:8080");
    verdicts.set("web2", "failing");
    const [sorry] = await waitFor("the sorry server", async () =>
      runner.commands.length > 0 ? runner.take() : undefined,
    );
    assert.equal(dnatOf(sorry), "dnat ip to 198.18.1.19:8080");

    // In place and current: the monitor only looks.
    runner.present = true;
    assert.equal((await run("monitor")).outcome, "running");
    assert.deepEqual(runner.take(), ["nft list table ip vigil-lvs-web-lvs"]);

    assert.equal((await run("stop")).outcome, "success");
    assert.deepEqual(runner.take(), [
      "nft -f - <<table ip vigil-lvs-web-lvs {}\ndelete table ip vigil-lvs-web-lvs\n",
    ]);
    verdicts.set("web1", "passing");
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(runner.take(), [], "a stopped service is not reprogrammed");
    runner.present = false;
    assert.equal((await run("monitor")).outcome, "not_running");
  });

  test("a monitor that finds an earlier agent's table takes it up and makes it current", async () => {
    const { runner, verdicts, run } = setup({ ipvsPresent: () => false });
    verdicts.set("web2", "failing");
    runner.present = true;
    assert.equal((await run("monitor")).outcome, "running");
    const [listed, applied] = runner.take();
    assert.equal(listed, "nft list table ip vigil-lvs-web-lvs");
    assert.equal(dnatOf(applied), "dnat ip to 198.18.1.11:8080");
    verdicts.set("web2", "passing");
    await waitFor("the reprogramming", async () => (runner.commands.length > 0 ? true : undefined));
  });

  test("IPVS where the kernel has it: ipvsadm adds the service, deletes a failing server, and stop deletes the service", async () => {
    const { runner, verdicts, run } = setup({ ipvsPresent: () => true });
    assert.equal((await run("start")).outcome, "success");
    assert.deepEqual(runner.take(), [
      "ipvsadm -D -t 198.18.0.100:80",
      "ipvsadm -A -t 198.18.0.100:80 -s wrr",
      "ipvsadm -a -t 198.18.0.100:80 -r 198.18.1.11:8080 -m -w 2",
      "ipvsadm -a -t 198.18.0.100:80 -r 198.18.1.12:8080 -m -w 1",
    ]);
    verdicts.set("web1", "failing");
    assert.deepEqual(
      await waitFor("the reprogramming", async () =>
        runner.commands.length > 0 ? runner.take() : undefined,
      ),
      ["ipvsadm -d -t 198.18.0.100:80 -r 198.18.1.11:8080"],
    );
    assert.equal((await run("stop")).outcome, "success");
    assert.deepEqual(runner.take(), [
      "nft -f - <<table ip vigil-lvs-web-lvs {}\ndelete table ip vigil-lvs-web-lvs\n",
      "ipvsadm -D -t 198.18.0.100:80",
    ]);
  });

  test("stop never fails for what cannot be there: damaged parameters, nft not installed", async () => {
    const runner = new RecordingRunner();
    const executor = new Executor({
      clock: steppingClock(),
      runner,
      createAgent: () => new DirectorAgent({ ipvsPresent: () => false }),
    });
    const stop = (params: Record<string, string>) =>
      executor.run("web-lvs", { operation: "stop", agent: DIRECTOR, params, timeoutMs: 5_000 });
    const damaged = await stop({ ...virtualServiceParams(SERVICE), real_servers: "nonsense" });
    assert.equal(damaged.outcome, "success");
    assert.deepEqual(runner.take(), [
      "nft -f - <<table ip vigil-lvs-web-lvs {}\ndelete table ip vigil-lvs-web-lvs\n",
      "nft -f - <<table ip6 vigil-lvs-web-lvs {}\ndelete table ip6 vigil-lvs-web-lvs\n",
    ]);
    runner.missing.add("nft");
    assert.equal((await stop(virtualServiceParams(SERVICE))).outcome, "success");
    const monitor = await executor.run("web-lvs", {
      operation: "monitor",
      agent: DIRECTOR,
      params: virtualServiceParams(SERVICE),
      timeoutMs: 5_000,
    });
    assert.equal(monitor.outcome, "not_running");
    const start = await setup({ ipvsPresent: () => false });
    start.runner.missing.add("nft");
    const started = await start.run("start");
    assert.equal(started.exitCode, OCF_ERR_INSTALLED);
    assert.match(started.reason ?? "", /cannot run nft/);
  });

  test("refusals: forwarding off here, IPVS asked of a kernel without it, IPVS with masquerade", async () => {
    const off = await setup({ forwarding: () => false }).run("start");
    assert.equal(off.exitCode, OCF_ERR_INSTALLED);
    assert.match(off.reason ?? "", /net\.ipv4\.ip_forward is 0 on this node/);
    const noIpvs = await setup({ ipvsPresent: () => false }, { ...SERVICE, backend: "ipvs" }).run(
      "start",
    );
    assert.equal(noIpvs.exitCode, OCF_ERR_INSTALLED);
    assert.match(noIpvs.reason ?? "", /no IPVS/);
    const masq = await setup(
      { ipvsPresent: () => true },
      { ...SERVICE, backend: "ipvs", masquerade: true },
    ).run("start");
    assert.equal(masq.exitCode, OCF_ERR_CONFIGURED);
    // auto with masquerade: nftables, even where IPVS is.
    const auto = setup({ ipvsPresent: () => true }, { ...SERVICE, masquerade: true });
    assert.equal((await auto.run("start")).outcome, "success");
    assert.match(auto.runner.take()[0] ?? "", /^nft -f -/);
  });
});

const skip = isRoot() ? false : "needs root to create a network namespace";

describe("the director agent with real nft", { skip }, () => {
  test("start, again, monitor, a verdict, stop, again: the table is exactly what the rules say", async () => {
    const ns = `vigil-director-${randomSuffix()}`;
    ip("netns", "add", ns);
    try {
      const verdicts = new CheckVerdicts();
      const runner = new NetnsRunner(ns, new ChildProcessRunner());
      const agent = new DirectorAgent({
        verdicts,
        forwarding: () => true,
        ipvsPresent: () => false,
      });
      const executor = new Executor({ clock: steppingClock(), runner, createAgent: () => agent });
      const params = virtualServiceParams({ ...SERVICE, masquerade: true });
      const run = (operation: OperationName) =>
        executor.run("web-lvs", { operation, agent: DIRECTOR, params, timeoutMs: 10_000 });
      const table = async () =>
        (await runner.run({ file: "nft", args: ["list", "table", "ip", "vigil-lvs-web-lvs"] }))
          .stdout;

      assert.equal((await run("monitor")).outcome, "not_running");
      assert.equal((await run("start")).outcome, "success");
      assert.equal((await run("start")).outcome, "success", "start twice");
      assert.match(
        await table(),
        /ip daddr 198\.18\.0\.100 tcp dport 80 dnat ip to numgen inc mod 3 map \{ 0 : 198\.18\.1\.11 \. 8080, 1 : 198\.18\.1\.12 \. 8080, 2 : 198\.18\.1\.11 \. 8080 \}/,
      );
      assert.match(
        await table(),
        /ct original ip daddr 198\.18\.0\.100 ct original proto-dst 80 masquerade/,
      );
      assert.equal((await run("monitor")).outcome, "running");

      verdicts.set("web1", "failing");
      await waitFor("the table without web1", async () =>
        /dnat to 198\.18\.1\.12:8080/.test(await table()) ? true : undefined,
      );

      assert.equal((await run("stop")).outcome, "success");
      assert.equal(await table(), "");
      assert.equal((await run("stop")).outcome, "success", "stop twice");
      assert.equal((await run("monitor")).outcome, "not_running");
      const ruleset = await runner.run({ file: "nft", args: ["list", "ruleset"] });
      assert.equal(ruleset.stdout.trim(), "", "nothing else was left");
    } finally {
      ip("netns", "del", ns);
    }
  });

  test("the kernel takes every kind of table the renderer writes: both families, each scheduler, masquerade, the sorry server, nothing", async () => {
    const ns = `vigil-director-${randomSuffix()}`;
    ip("netns", "add", ns);
    try {
      const runner = new NetnsRunner(ns, new ChildProcessRunner());
      const v6: VirtualService = {
        ...WEB,
        family: 6,
        address: "2001:db8::100",
        realServers: [
          { address: "2001:db8::11", port: 8080, weight: 3 },
          { address: "2001:db8::12", port: 80, weight: 1 },
        ],
        sorryServer: { address: "2001:db8::19", port: 8080 },
      };
      const refused: string[] = [];
      for (const service of [WEB, v6])
        for (const scheduler of ["rr", "wrr", "sh"] as const)
          for (const protocol of ["tcp", "udp"] as const)
            for (const masquerade of [false, true])
              for (const healthy of [true, false]) {
                const variant = { ...service, scheduler, protocol, masquerade };
                const noSorry = { ...variant, sorryServer: undefined };
                for (const each of healthy ? [variant] : [variant, noSorry]) {
                  const script = nftApplyScript(
                    "t",
                    directorRules(each, () => healthy),
                  );
                  const checked = await runner.run({
                    file: "nft",
                    args: ["-c", "-f", "-"],
                    stdin: script,
                  });
                  if (checked.exitCode !== 0) refused.push(`${checked.stderrTail}\n${script}`);
                }
              }
      assert.deepEqual(refused, []);
    } finally {
      ip("netns", "del", ns);
    }
  });
});
