/**
 * Every YAML example in docs/resources.md is a whole resource document, checked as
 * `vigil config apply` checks one: shape, references, order cycles and placement on the
 * README's three nodes, then each agent as installed on this machine (the repository stands in
 * for /opt/vigil, where the docs have it cloned). A block right after a line
 * `<!-- refused: TEXT -->` is an example of a refused document: it must be refused with a
 * problem whose message contains TEXT. Tests are named after the block's first line.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import type { ConfigProblem } from "../../src/config/errors.js";
import { checkResourceDocument } from "../../src/resource-check/check-document.js";
import { DOCUMENT_SECTIONS } from "../../src/resource-model/model-schema.js";
import { checkResourceDocumentWithAgents } from "../../src/resources/check-agents.js";

const ROOT = join(import.meta.dirname, "..", "..");
const FILE = "docs/resources.md";
const NODES = ["db1", "db2", "db3"];

interface Example {
  /** "docs/resources.md:212", the block's first line. */
  where: string;
  text: string;
  /** What the refusal must say, for an example marked refused. */
  refused?: string;
}

function examples(): Example[] {
  const lines = readFileSync(join(ROOT, FILE), "utf8").split("\n");
  const found: Example[] = [];
  for (let index = 0; index < lines.length; index++) {
    if (lines[index]?.trim() !== "```yaml") continue;
    const end = lines.findIndex((line, at) => at > index && line.trim() === "```");
    assert.ok(end > index, `${FILE}:${index + 1}: a yaml block that is never closed`);
    const marker = /^<!-- refused: (.+) -->$/.exec(lines[index - 1]?.trim() ?? "");
    found.push({
      where: `${FILE}:${index + 2}`,
      text: lines.slice(index + 1, end).join("\n"),
      ...(marker?.[1] ? { refused: marker[1] } : {}),
    });
    index = end;
  }
  return found;
}

function describe(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `${p.path.join(".")}: ${p.message}`).join("\n  ") || "none";
}

/**
 * Only this machine can lack an init script or a systemd unit (or systemd itself): such a
 * problem names the agent and says it is not here, and nothing else about the example.
 */
function missingHere(problem: ConfigProblem, document: Record<string, unknown>): boolean {
  const [section, id, key] = problem.path;
  if (section !== "resources" || typeof id !== "string" || key !== "agent") return false;
  const resources = document.resources as Record<string, { agent?: unknown }>;
  const agent = String(resources[id]?.agent ?? "");
  if (!agent.startsWith("lsb:") && !agent.startsWith("systemd:")) return false;
  return /systemd is not running on this host|systemd has no unit|not found: .* does not exist/.test(
    problem.message,
  );
}

const all = examples();

test(`${FILE} has its examples, valid and refused`, () => {
  assert.ok(all.length >= 12, `only ${all.length} yaml blocks found`);
  assert.ok(all.some((example) => example.refused !== undefined));
  assert.ok(all.some((example) => /promotable: true/.test(example.text)));
});

for (const example of all) {
  const name = example.refused
    ? `${example.where}: refused, saying "${example.refused}"`
    : `${example.where}: passes vigil config apply's checks`;
  test(name, async (t) => {
    let document: Record<string, unknown>;
    try {
      document = parse(example.text.replaceAll("/opt/vigil/", `${ROOT}/`), {
        uniqueKeys: true,
      }) as Record<string, unknown>;
    } catch (error) {
      assert.fail(`${example.where}: not valid YAML: ${(error as Error).message}`);
    }
    assert.equal(typeof document, "object", `${example.where}: not a YAML mapping`);
    assert.ok(
      DOCUMENT_SECTIONS.some((key) => key in document),
      `${example.where}: no resource section`,
    );
    for (const key of Object.keys(document)) {
      assert.ok(
        DOCUMENT_SECTIONS.includes(key),
        `${example.where}: top-level key ${key} is not a resource section (it would be stored unchecked)`,
      );
    }

    const shape = checkResourceDocument(document, NODES).problems;
    const problems =
      shape.length > 0 ? shape : await checkResourceDocumentWithAgents(document, NODES);
    if (example.refused !== undefined) {
      const expected = example.refused;
      assert.ok(
        problems.some((problem) => problem.message.includes(expected)),
        `${example.where}: expected a problem saying "${expected}", got:\n  ${describe(problems)}`,
      );
      return;
    }
    assert.deepEqual(shape, [], `${example.where}: refused:\n  ${describe(shape)}`);
    const here = problems.filter((problem) => missingHere(problem, document));
    for (const problem of here) t.diagnostic(`not on this machine: ${describe([problem])}`);
    const rest = problems.filter((problem) => !here.includes(problem));
    assert.deepEqual(rest, [], `${example.where}: refused:\n  ${describe(rest)}`);
  });
}
