import { ModelIndex } from "../policy/model-index.js";
import { cloneInstanceKey, parseCloneInstanceKey } from "../policy/naming.js";
import type { Primitive, ResourceModel } from "../resource-model/types.js";

/** What a placement key runs: its primitive, and whether it is a copy of a promotable clone. */
export interface KeyedPrimitive {
  key: string;
  primitive: Primitive;
  promotable: boolean;
  /** The clone it is an instance of, if any. */
  cloneId?: string;
}

/**
 * primitiveOfKey's answers, per the parts of a model it reads. A node asks for the same keys of
 * one committed model many times a second (each feed of its guard, each reconcile); one answer
 * per key also keeps the caller's caches keyed by the KeyedPrimitive (the guard's stop requests)
 * from missing. The parts are compared by identity: a model is never changed in place, a new
 * configuration is new objects.
 */
const answersByPrimitives = new WeakMap<
  ResourceModel["primitives"],
  {
    clones: ResourceModel["clones"];
    groups: ResourceModel["groups"];
    byKey: Map<string, KeyedPrimitive | undefined>;
  }
>();

/** The primitive behind a placement key (a primitive id or a clone instance such as "db:0"). */
export function primitiveOfKey(model: ResourceModel, key: string): KeyedPrimitive | undefined {
  let answers = answersByPrimitives.get(model.primitives);
  if (answers === undefined || answers.clones !== model.clones || answers.groups !== model.groups) {
    answers = { clones: model.clones, groups: model.groups, byKey: new Map() };
    answersByPrimitives.set(model.primitives, answers);
  }
  if (answers.byKey.has(key)) return answers.byKey.get(key);
  const keyed = findPrimitiveOfKey(model, key);
  answers.byKey.set(key, keyed === undefined ? undefined : Object.freeze(keyed));
  return keyed;
}

function findPrimitiveOfKey(model: ResourceModel, key: string): KeyedPrimitive | undefined {
  const direct = Object.hasOwn(model.primitives, key) ? model.primitives[key] : undefined;
  if (direct !== undefined) {
    const wrapped = Object.values(model.clones).some((clone) => clone.of === key);
    return wrapped ? undefined : { key, primitive: direct, promotable: false };
  }
  for (const clone of Object.values(model.clones)) {
    const instance = parseCloneInstanceKey(clone.id, key);
    if (instance === undefined || instance.index >= clone.max) continue;
    // Only the keys the policy engine itself names: "c:1", or "c:1/member" for a clone of a group.
    const group = Object.hasOwn(model.groups, clone.of) ? model.groups[clone.of] : undefined;
    const member = instance.member;
    const named =
      group === undefined
        ? member === undefined
        : member !== undefined && group.members.includes(member);
    if (!named || cloneInstanceKey(clone.id, instance.index, member) !== key) return undefined;
    const id = member ?? clone.of;
    const primitive = Object.hasOwn(model.primitives, id) ? model.primitives[id] : undefined;
    if (primitive === undefined) return undefined;
    return { key, primitive, promotable: clone.promotable, cloneId: clone.id };
  }
  return undefined;
}

/**
 * Every placement key of the model, grouped by the primitive a node would probe once: one
 * primitive outside clones has one key; a clone's primitive has one key per instance.
 */
export function keysByPrimitive(model: ResourceModel): Map<string, KeyedPrimitive[]> {
  const index = new ModelIndex(model);
  const result = new Map<string, KeyedPrimitive[]>();
  for (const unit of index.units) {
    for (const key of index.unitKeys(unit)) {
      const keyed = primitiveOfKey(model, key);
      if (keyed === undefined) continue;
      const list = result.get(keyed.primitive.id) ?? [];
      list.push(keyed);
      result.set(keyed.primitive.id, list);
    }
  }
  return result;
}

/**
 * The key of the group member that `keyed` starts after, on the same node (a group starts in
 * member order), or undefined for a first member or a resource in no group.
 */
export function groupPredecessorKey(
  model: ResourceModel,
  keyed: KeyedPrimitive,
): string | undefined {
  const member = keyed.primitive.id;
  const group = Object.values(model.groups).find((g) => g.members.includes(member));
  const index = group?.members.indexOf(member) ?? -1;
  const previous = index > 0 ? group?.members[index - 1] : undefined;
  if (previous === undefined || keyed.cloneId === undefined) return previous;
  const instance = parseCloneInstanceKey(keyed.cloneId, keyed.key);
  return instance === undefined
    ? undefined
    : cloneInstanceKey(keyed.cloneId, instance.index, previous);
}
