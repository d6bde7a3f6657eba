// Every fencing example in the documentation and examples/ passes `vigil config validate`'s checks
// against Debian's real fence agents: a documented device must be one that can fence. The YAML
// blocks that mention `fencing:` are taken out of the Markdown; a block that is a fragment gets
// what a whole file needs around it (a cluster name, a node for each name it uses, a link).
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parse, stringify } from "yaml";
import { loadConfigFile } from "../../src/config/load.js";
import { checkFenceDevices } from "../../src/fencing/check-devices.js";
import { FenceRunner } from "../../src/fencing/fence-runner.js";
import { systemClock } from "../../src/time/clock.js";

const ROOT = join(import.meta.dirname, "..", "..");
const MARKDOWN = ["README.md", "ARCHITECTURE.md", ...listed("docs", ".md")];
const EXAMPLES = listed("examples", ".yaml");

function listed(dir: string, suffix: string): string[] {
  return readdirSync(join(ROOT, dir))
    .filter((name) => name.endsWith(suffix))
    .map((name) => join(dir, name));
}

interface Example {
  /** "docs/configuration.md:212" */
  where: string;
  text: string;
}

/** The ```yaml blocks of a Markdown file that configure fencing, with their line. */
function markdownExamples(file: string): Example[] {
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  const examples: Example[] = [];
  for (let index = 0; index < lines.length; index++) {
    if (lines[index]?.trim() !== "```yaml") continue;
    const end = lines.findIndex((line, at) => at > index && line.trim() === "```");
    const text = lines.slice(index + 1, end).join("\n");
    if (/^fencing:/m.test(text)) examples.push({ where: `${file}:${index + 2}`, text });
    index = end;
  }
  return examples;
}

type Mapping = Record<string, unknown>;

/**
 * A whole configuration around `fragment`: its nodes (or one per name its fencing section uses,
 * plus a witness, so that two of them need no fence delay), a link they all have, a cluster name.
 */
function completed(fragment: Mapping): Mapping {
  const whole: Mapping = { cluster: { name: "docs-example" }, ...fragment };
  const fencing = (fragment.fencing ?? {}) as Mapping;
  if (whole.nodes === undefined) {
    const names = new Set<string>();
    for (const device of Object.values((fencing.devices ?? {}) as Record<string, Mapping>)) {
      for (const name of Object.keys((device.targets ?? {}) as Mapping)) names.add(name);
    }
    for (const key of ["levels", "delay_ms"]) {
      for (const name of Object.keys((fencing[key] ?? {}) as Mapping)) names.add(name);
    }
    const nodes = [...names].map((name, index) => ({
      id: index + 1,
      name,
      links: { ring0: { address: `198.18.0.${index + 1}` } },
    }));
    nodes.push({
      id: nodes.length + 1,
      name: "witness",
      links: { ring0: { address: `198.18.0.${nodes.length + 1}` } },
      ...{ witness: true },
    });
    whole.nodes = nodes;
  }
  if (whole.links === undefined) {
    const linkNames = new Set<string>();
    for (const node of whole.nodes as Array<{ links: Mapping }>) {
      for (const name of Object.keys(node.links)) linkNames.add(name);
    }
    whole.links = [...linkNames].map((name) => ({ name, type: "ucast" }));
  }
  return whole;
}

const dir = mkdtempSync(join(tmpdir(), "vigil-docs-fencing-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function validateWithAgents(file: string): Promise<void> {
  await loadConfigFile(file, (config) =>
    checkFenceDevices(new FenceRunner({ fencing: config.fencing, clock: systemClock })),
  );
}

const markdown = MARKDOWN.flatMap(markdownExamples);

test("the documentation has fencing examples to check", () => {
  const wheres = markdown.map((example) => example.where);
  assert.ok(
    wheres.filter((where) => where.startsWith("docs/configuration.md")).length >= 3,
    `found: ${wheres.join(", ")}`,
  );
  assert.ok(
    EXAMPLES.some((file) => /^fencing:/m.test(readFileSync(join(ROOT, file), "utf8"))),
    "an example file configures fencing",
  );
});

for (const [index, example] of markdown.entries()) {
  test(`${example.where}: its fence devices pass the checks against the real agents`, async () => {
    const file = join(dir, `example-${index}.yaml`);
    writeFileSync(file, stringify(completed(parse(example.text) as Mapping)));
    await validateWithAgents(file);
  });
}

for (const example of EXAMPLES) {
  const text = readFileSync(join(ROOT, example), "utf8");
  if (!/^fencing:/m.test(text)) continue;
  test(`${example}: its fence devices pass the checks against the real agents`, async () => {
    await validateWithAgents(join(ROOT, example));
  });
}
