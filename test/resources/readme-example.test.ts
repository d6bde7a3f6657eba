/**
 * The README's resource example works as printed: checked as `vigil config apply` checks a
 * document (shape, references, placement, then each agent as installed here), with the
 * repository standing in for /opt/vigil, where the README has it cloned.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { checkResourceDocumentWithAgents } from "../../src/resources/check-agents.js";

const ROOT = join(import.meta.dirname, "..", "..");

/** The YAML blocks of the README that hold a `resources:` section. */
function resourceExamples(): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  return [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((match) => match[1] ?? "")
    .filter((block) => /^resources:/m.test(block));
}

test("the README has one resource example", () => {
  assert.equal(resourceExamples().length, 1);
});

test("the README's resource example passes vigil config apply's checks, with the agents it names", async () => {
  const [example] = resourceExamples();
  const document = parse(example!.replaceAll("/opt/vigil/", `${ROOT}/`));
  const problems = await checkResourceDocumentWithAgents(document, ["db1", "db2", "db3"]);
  // A web server's unit exists only where one is installed; everything else must check out here.
  const elsewhere = problems.filter((problem) => problem.path.join(".") !== "resources.web.agent");
  assert.deepEqual(elsewhere, []);
  assert.equal(document.resources.db.agent, `exec:${ROOT}/examples/agents/redis`);
  assert.equal(document.clones["db-ha"].promotable, true);
});
