import assert from "node:assert/strict";
import { test } from "node:test";
import { parseYamlText } from "../../src/config/yaml-file.js";
import { YAML_MAX_ALIASED_VALUES, YAML_MAX_BYTES } from "../../src/config/yaml-limits.js";
import { checkResourceDocument } from "../../src/resource-check/check-document.js";
import { configErrorOf, VALID_YAML } from "./helpers.js";

/** The billion laughs: nine levels of nine aliases each, 9^9 values from ten short lines. */
const ALIAS_BOMB = [
  "lol: &a [x, x, x, x, x, x, x, x, x]",
  ..."bcdefghi".split("").map((name, index) => {
    const previous = "abcdefghi"[index]!;
    return `${name}: &${name} [${Array(9).fill(`*${previous}`).join(", ")}]`;
  }),
].join("\n");

test("an alias bomb is refused at the alias that crosses the limit, before it is expanded", () => {
  const error = configErrorOf(`${ALIAS_BOMB}\n`, "bomb.yaml");
  assert.equal(
    error.message,
    `invalid configuration bomb.yaml (1 problem):\nbomb.yaml:6:8: refused: aliases expand to more than ${YAML_MAX_ALIASED_VALUES} values by here; write the values out or use fewer aliases`,
  );
});

test("ten thousand nested [ are refused at the level past the limit, without a stack overflow", () => {
  const error = configErrorOf(`${"[".repeat(10_000)}\n`, "deep.yaml");
  assert.equal(
    error.message,
    "invalid configuration deep.yaml (1 problem):\ndeep.yaml:1:65: refused: mappings and sequences nest deeper than 64 levels here",
  );
});

test("deep block nesting (indentation, `- - -`) is refused the same way", () => {
  assert.match(
    configErrorOf(`nodes:\n  ${"- ".repeat(10_000)}x\n`, "block.yaml").message,
    /^block\.yaml:2:129: refused: mappings and sequences nest deeper than 64 levels here$/m,
  );
  const indented = Array.from({ length: 70 }, (_, level) => `${"  ".repeat(level)}k${level}:`);
  assert.match(
    configErrorOf(`${indented.join("\n")} x\n`, "indented.yaml").message,
    /^indented\.yaml:65:129: refused: mappings and sequences nest deeper than 64 levels here$/m,
  );
});

test("an alias that deepens its anchor past the limit, and one inside its own anchor, are refused", () => {
  const deepAnchor = `a: &deep ${"[".repeat(40)}${"]".repeat(40)}\nb: ${"[".repeat(30)}*deep${"]".repeat(30)}\n`;
  assert.match(
    configErrorOf(deepAnchor, "alias-depth.yaml").message,
    /^alias-depth\.yaml:2:34: refused: alias \*deep nests mappings and sequences deeper than 64 levels$/m,
  );
  assert.match(
    configErrorOf("cluster: &self { name: x, again: *self }\n", "cycle.yaml").message,
    /^cycle\.yaml:1:34: refused: alias \*self is inside the node it refers to$/m,
  );
});

test("a file over the size limit is refused before it is parsed", () => {
  const text = `${VALID_YAML}# ${"x".repeat(YAML_MAX_BYTES)}\n`;
  assert.equal(
    configErrorOf(text, "huge.yaml").message,
    `invalid configuration huge.yaml (1 problem):\nhuge.yaml:1:1: refused: the file is ${Buffer.byteLength(text)} bytes; at most ${YAML_MAX_BYTES} are accepted`,
  );
});

test("ordinary aliases still work: one anchor used 150 times", () => {
  const uses = Array.from({ length: 150 }, (_, index) => `  r${index}: *op`).join("\n");
  const { value } = parseYamlText(`op: &op { timeout_ms: 5000 }\nuses:\n${uses}\n`, "ok.yaml");
  const parsed = value as { uses: Record<string, unknown> };
  assert.deepEqual(parsed.uses.r149, { timeout_ms: 5000 });
});

test("a resource document that came as JSON (the agent's API) is refused when it nests too deep", () => {
  let deep: unknown = "x";
  for (let level = 0; level < 10_000; level++) deep = [deep];
  const { model, problems } = checkResourceDocument({ resources: {}, extra: deep }, ["alpha"]);
  assert.equal(model, null);
  assert.deepEqual(problems, [{ path: [], message: "nests deeper than 64 levels" }]);
});
