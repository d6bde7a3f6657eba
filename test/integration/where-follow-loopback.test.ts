import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import type { WhereReply } from "../../src/control/where-routes.js";
import type { LocalCluster } from "../../src/demo/local-cluster.js";
import { echoRunsOn, freeTcpPorts, READ_TOKEN, startApiCluster } from "../support/local-api.js";
import { applyEchoService, stopProbedCluster } from "../support/local-takeover.js";
import { RunningVigil } from "../support/running-vigil.js";
import { waitFor } from "../support/wait.js";

/** GET /v1/where?follow=1 over the API: every `where` event's answer, as it comes. */
function followOverApi(url: string, resource: string) {
  const answers: WhereReply[] = [];
  let buffer = "";
  const req = request(
    `${url}/v1/where?${new URLSearchParams({ resource, follow: "1" })}`,
    { headers: { authorization: `Bearer ${READ_TOKEN}` } },
    (response) => {
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers["content-type"]), /^text\/event-stream/);
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const [event, data] = buffer.slice(0, end).split("\n");
          buffer = buffer.slice(end + 2);
          if (event === "event: where" && data?.startsWith("data: "))
            answers.push(JSON.parse(data.slice(6)) as WhereReply);
        }
      });
    },
  );
  req.end();
  return { answers, close: () => req.destroy() };
}

/** Where echo's started copy is, in one answer; undefined when none or several. */
const startedOn = (answer: WhereReply | undefined) => {
  const started = answer?.copies.filter((copy) => copy.role === "started") ?? [];
  return started.length === 1 ? started[0]?.node : undefined;
};

/**
 * Three real agents on loopback running a service: `vigil where --follow` on one node and
 * GET /v1/where?follow=1 on another print where it runs, then, once the node that runs it is
 * killed, where it runs next, without being asked again.
 */
describe("following where a resource runs", () => {
  let dir: string;
  let cluster: LocalCluster;
  let apis: Map<string, string>;
  const running: RunningVigil[] = [];
  const closes: Array<() => void> = [];

  before(async () => {
    ({ dir, cluster, apis } = await startApiCluster("vigil-where-follow-"));
    const [port] = (await freeTcpPorts(1)) as [number];
    const applied = await applyEchoService(dir, port, cluster.socketPath("alpha"));
    assert.equal(applied.code, 0, applied.stderr);
  });

  after(async () => {
    for (const close of closes) close();
    for (const command of running) await command.stop();
    await stopProbedCluster(dir, cluster);
  });

  test("vigil where --follow and GET /v1/where?follow=1 see the service move after its node dies", async () => {
    const node = await waitFor("echo to run on one node", () => echoRunsOn(cluster, "alpha"));
    const [cliNode, apiNode] = cluster.names.filter((name) => name !== node) as [string, string];
    const follow = new RunningVigil(
      "where",
      "echo",
      "--follow",
      "--json",
      "--socket",
      cluster.socketPath(cliNode),
    );
    running.push(follow);
    const overApi = followOverApi(apis.get(apiNode) as string, "echo");
    closes.push(overApi.close);
    const printed = () =>
      follow.stdout
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as WhereReply);
    await waitFor("the first answers", () =>
      printed().length > 0 && overApi.answers.length > 0 ? true : undefined,
    );
    assert.equal(startedOn(printed()[0]), node, follow.stdout);
    assert.equal(startedOn(overApi.answers[0]), node);

    await cluster.signal(node, "SIGKILL");
    const next = await waitFor(
      "the CLI to print echo started on a survivor",
      () => {
        const now = startedOn(printed().at(-1));
        return now !== undefined && now !== node ? now : undefined;
      },
      { timeoutMs: 30_000 },
    );
    await waitFor("the API stream to say the same", () =>
      startedOn(overApi.answers.at(-1)) === next ? true : undefined,
    );
    const answers = printed();
    assert.ok(follow.running, follow.stderr);
    assert.ok(
      answers.every(
        (answer, i) => i === 0 || answer.stateVersion > (answers[i - 1]?.stateVersion ?? 0),
      ),
      "each answer printed is a later state's",
    );
    assert.ok(
      answers.every(
        (answer, i) =>
          i === 0 || JSON.stringify(answer.copies) !== JSON.stringify(answers[i - 1]?.copies),
      ),
      `printed only when the answer changed: ${follow.stdout}`,
    );

    // The followed agent stops: the command says so and fails, rather than wait forever.
    await cluster.signal(cliNode, "SIGTERM");
    assert.equal(await follow.exited, 1);
    assert.match(follow.stderr, /ended the stream/);
  });
});
