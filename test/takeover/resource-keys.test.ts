import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ResourceModel } from "../../src/resource-model/types.js";
import { keysByPrimitive, primitiveOfKey } from "../../src/takeover/resource-keys.js";
import { clone, group, model, primitive } from "../policy/fixtures.js";

/** web alone, a group stack [ip, app], a promotable clone db of redis, a clone c of group g [a, b]. */
function cluster(): ResourceModel {
  return model({
    primitives: ["web", "ip", "app", "redis", "a", "b"].map((id) => primitive(id)),
    groups: [group("stack", ["ip", "app"]), group("g", ["a", "b"])],
    clones: [clone("db", "redis", { promotable: true, max: 2 }), clone("c", "g", { max: 2 })],
  });
}

/** The keyed primitive without the primitive object itself, for short comparisons. */
function summary(m: ResourceModel, key: string) {
  const keyed = primitiveOfKey(m, key);
  if (keyed === undefined) return undefined;
  const { primitive: p, ...rest } = keyed;
  assert.equal(p, m.primitives[p.id], "the model's own primitive object");
  return { ...rest, primitive: p.id };
}

describe("primitiveOfKey", () => {
  test("a primitive outside clones is its own key, alone or in a group", () => {
    const m = cluster();
    assert.deepEqual(summary(m, "web"), { key: "web", primitive: "web", promotable: false });
    assert.deepEqual(summary(m, "app"), { key: "app", primitive: "app", promotable: false });
  });

  test("clone instances of a primitive: <clone>:<n> below max, promotable as the clone is", () => {
    const m = cluster();
    assert.deepEqual(summary(m, "db:0"), {
      key: "db:0",
      primitive: "redis",
      promotable: true,
      cloneId: "db",
    });
    assert.deepEqual(summary(m, "db:1")?.primitive, "redis");
    assert.equal(primitiveOfKey(m, "db:2"), undefined, "beyond max");
  });

  test("clone instances of a group: <clone>:<n>/<member>", () => {
    const m = cluster();
    assert.deepEqual(summary(m, "c:1/b"), {
      key: "c:1/b",
      primitive: "b",
      promotable: false,
      cloneId: "c",
    });
    assert.equal(primitiveOfKey(m, "c:0"), undefined, "a group instance needs its member");
    assert.equal(primitiveOfKey(m, "c:2/a"), undefined, "beyond max");
    assert.equal(primitiveOfKey(m, "c:0/zz"), undefined, "no such primitive");
  });

  test("not a placement key: no primitive", () => {
    const m = cluster();
    for (const key of ["redis", "stack", "g", "db", "nope", "db:x", "db:-1", "nope:0", ""]) {
      assert.equal(primitiveOfKey(m, key), undefined, key);
    }
  });

  test("keys naming a member the clone does not have, or an instance number spelled oddly, have no primitive", () => {
    const m = cluster();
    for (const key of ["c:0/web", "db:0/web", "db:01"]) {
      assert.equal(primitiveOfKey(m, key), undefined, key);
    }
  });

  test("an empty model has no keys", () => {
    assert.equal(primitiveOfKey(model({}), "web"), undefined);
    assert.deepEqual([...keysByPrimitive(model({}))], []);
  });
});

describe("keysByPrimitive", () => {
  test("one key per primitive outside clones, one per instance for a clone's primitive", () => {
    const keys = keysByPrimitive(cluster());
    const listed = Object.fromEntries(
      [...keys].map(([id, list]) => [id, list.map((k) => [k.key, k.promotable, k.cloneId])]),
    );
    assert.deepEqual(listed, {
      web: [["web", false, undefined]],
      ip: [["ip", false, undefined]],
      app: [["app", false, undefined]],
      redis: [
        ["db:0", true, "db"],
        ["db:1", true, "db"],
      ],
      a: [
        ["c:0/a", false, "c"],
        ["c:1/a", false, "c"],
      ],
      b: [
        ["c:0/b", false, "c"],
        ["c:1/b", false, "c"],
      ],
    });
  });

  test("every key it lists maps back to the same primitive through primitiveOfKey", () => {
    const m = cluster();
    for (const [id, list] of keysByPrimitive(m)) {
      for (const keyed of list) {
        assert.equal(keyed.primitive.id, id);
        assert.deepEqual(primitiveOfKey(m, keyed.key), keyed);
      }
    }
  });

  test("a clone's max sets how many keys its primitive has", () => {
    const m = model({
      primitives: [primitive("redis")],
      clones: [clone("db", "redis", { max: 5 })],
    });
    assert.deepEqual(
      keysByPrimitive(m)
        .get("redis")
        ?.map((k) => k.key),
      ["db:0", "db:1", "db:2", "db:3", "db:4"],
    );
  });
});
