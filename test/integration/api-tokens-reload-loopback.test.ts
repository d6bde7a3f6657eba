import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { LocalCluster } from "../../src/demo/local-cluster.js";
import { apiRequest } from "../support/http.js";
import { enableApi, OPERATE_TOKEN, READ_TOKEN } from "../support/local-api.js";
import { removeTestDir } from "../support/remove-dir.js";
import { waitFor } from "../support/wait.js";

const NEW_READ_TOKEN = "grafana-token-0123456789abcdef0123456789abcdef";
const RELOADED = "API tokens reloaded";
const REFUSED = "API tokens reload failed; keeping the old tokens";

interface LogLine {
  level: number;
  msg: string;
  err?: string;
  file?: string;
  tokens?: { read: number; operate: number };
  streamsEnded?: number;
}

/**
 * A real agent with the API on, its tokens file changed under it and SIGHUP sent: a good file is
 * in force at once (a new token reads, a removed one is refused), a bad one changes nothing and
 * is logged with its file and line, and the agent goes on.
 */
describe("the API's tokens reloaded on SIGHUP", () => {
  let dir: string;
  let cluster: LocalCluster;
  let url: string;
  let tokensFile: string;
  /** How many tokens-file outcomes alpha had logged before the latest SIGHUP. */
  let outcomesSeen = 0;

  const logLines = async (): Promise<LogLine[]> =>
    (await readFile(cluster.logPath("alpha"), "utf8"))
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as LogLine);
  /** SIGHUP to alpha; the log line of what it made of the tokens file. */
  const hangUp = async (): Promise<LogLine> => {
    await cluster.signal("alpha", "SIGHUP");
    const outcome = await waitFor("alpha to log the tokens file's reload", async () => {
      const outcomes = (await logLines()).filter(
        (line) => line.msg === RELOADED || line.msg === REFUSED,
      );
      return outcomes.length > outcomesSeen ? outcomes.at(-1) : undefined;
    });
    outcomesSeen++;
    return outcome;
  };
  const whoami = (token: string) => apiRequest(`${url}/v1/whoami`, { token });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-api-tokens-"));
    cluster = await LocalCluster.create({ nodes: 3, dir, profile: "default" });
    // The API answers without a quorum: one agent is enough here.
    url = (await enableApi(cluster, dir)).get("alpha")!;
    tokensFile = join(dir, "api-tokens");
    await cluster.start("alpha");
    await waitFor("alpha's API", async () =>
      (await whoami(READ_TOKEN)).status === 200 ? true : undefined,
    );
  });

  after(async () => {
    await cluster?.stopAll();
    await removeTestDir(dir);
  });

  test("a good file replaces the tokens: the new one reads, the removed one gets 401", async () => {
    await writeFile(
      tokensFile,
      `operate ops ${OPERATE_TOKEN}\nread grafana ${NEW_READ_TOKEN}\nread backup ${"b".repeat(40)}\n`,
    );
    const outcome = await hangUp();
    assert.equal(outcome.msg, RELOADED);
    assert.equal(outcome.file, tokensFile);
    assert.deepEqual(outcome.tokens, { read: 2, operate: 1 });

    assert.deepEqual((await whoami(NEW_READ_TOKEN)).json, { name: "grafana", role: "read" });
    const removed = await whoami(READ_TOKEN);
    assert.deepEqual([removed.status, removed.json], [401, { error: "unknown token" }]);
    const metrics = await apiRequest(`${url}/metrics`, { token: NEW_READ_TOKEN });
    assert.equal(metrics.status, 200);
  });

  test("a bad file keeps the tokens in force and is logged with its file and line", async () => {
    const stillInForce = async () => {
      assert.deepEqual((await whoami(NEW_READ_TOKEN)).json, { name: "grafana", role: "read" });
      assert.deepEqual((await whoami(OPERATE_TOKEN)).json, { name: "ops", role: "operate" });
      assert.equal((await whoami(READ_TOKEN)).status, 401);
    };
    const refusedWith = async (pattern: RegExp) => {
      const outcome = await hangUp();
      assert.equal(outcome.msg, REFUSED);
      assert.equal(outcome.level, 50, "logged as an error");
      assert.match(outcome.err ?? "", pattern);
      await stillInForce();
    };

    // A malformed line: the file's other lines are not taken either.
    await writeFile(
      tokensFile,
      `operate ops ${OPERATE_TOKEN}\nread prometheus ${READ_TOKEN}\nwrite bob ${"w".repeat(40)}\n`,
    );
    await refusedWith(
      new RegExp(`^tokens file ${tokensFile}:3: role "write" is neither read nor operate$`),
    );

    // Readable by others.
    await writeFile(tokensFile, `read prometheus ${READ_TOKEN}\n`);
    await chmod(tokensFile, 0o644);
    await refusedWith(new RegExp(`^tokens file ${tokensFile} `));

    // Gone.
    await rm(tokensFile);
    await refusedWith(new RegExp(`^tokens file ${tokensFile} does not exist`));

    assert.ok(cluster.isRunning("alpha"), "the agent goes on");
    const status = await apiRequest(`${url}/v1/status`, { token: NEW_READ_TOKEN });
    assert.equal(status.status, 200);
  });
});
