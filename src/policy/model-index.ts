import type { Clone, Constraint, ResourceMeta, ResourceModel } from "../resource-model/types.js";
import { cloneInstanceKey } from "./naming.js";

/**
 * A placement unit: what the engine places as one decision. A primitive outside any group or
 * clone, a group outside any clone (members always together), or a clone (its instances).
 */
export type Unit =
  | { kind: "primitive"; id: string; meta: ResourceMeta }
  | { kind: "group"; id: string; meta: ResourceMeta; members: string[] }
  | {
      kind: "clone";
      id: string;
      meta: ResourceMeta;
      clone: Clone;
      /** Members when the clone wraps a group; undefined when it wraps a primitive. */
      members: string[] | undefined;
    };

export type LocationConstraint = Extract<Constraint, { kind: "location" }>;
export type ColocationConstraint = Extract<Constraint, { kind: "colocation" }>;
export type OrderConstraint = Extract<Constraint, { kind: "order" }>;

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Constraint order never depends on the document's order: by id, then by content for duplicates. */
function sortConstraints<T extends Constraint>(list: T[]): T[] {
  return [...list].sort((a, b) => {
    const byIdResult = byId(a, b);
    if (byIdResult !== 0) return byIdResult;
    const ja = JSON.stringify(a);
    const jb = JSON.stringify(b);
    return ja < jb ? -1 : ja > jb ? 1 : 0;
  });
}

/** Lookups over a ResourceModel, built once per computation. Throws on a structurally broken model. */
export class ModelIndex {
  readonly units: Unit[];
  readonly locations: LocationConstraint[];
  readonly colocations: ColocationConstraint[];
  readonly orders: OrderConstraint[];
  private readonly unitByResource = new Map<string, Unit>();

  constructor(readonly model: ResourceModel) {
    const units: Unit[] = [];
    for (const clone of Object.values(model.clones)) {
      const inner = Object.hasOwn(model.groups, clone.of) ? model.groups[clone.of] : undefined;
      if (inner === undefined && !Object.hasOwn(model.primitives, clone.of)) {
        throw new Error(
          `clone "${clone.id}": "of" names "${clone.of}", which is no primitive or group`,
        );
      }
      if (inner !== undefined && clone.promotable) {
        throw new Error(
          `clone "${clone.id}": a promotable clone must wrap a primitive, not group "${clone.of}"`,
        );
      }
      const unit: Unit = {
        kind: "clone",
        id: clone.id,
        meta: clone.meta,
        clone,
        members: inner?.members,
      };
      units.push(unit);
      this.claim(clone.id, unit);
      this.claim(clone.of, unit);
      for (const member of inner?.members ?? []) this.claim(member, unit);
    }
    for (const group of Object.values(model.groups)) {
      if (this.unitByResource.has(group.id)) continue;
      const unit: Unit = { kind: "group", id: group.id, meta: group.meta, members: group.members };
      units.push(unit);
      this.claim(group.id, unit);
      for (const member of group.members) this.claim(member, unit);
    }
    for (const group of Object.values(model.groups)) {
      for (const member of group.members) {
        if (!Object.hasOwn(model.primitives, member)) {
          throw new Error(`group "${group.id}": member "${member}" is no primitive`);
        }
      }
    }
    for (const primitive of Object.values(model.primitives)) {
      if (this.unitByResource.has(primitive.id)) continue;
      const unit: Unit = { kind: "primitive", id: primitive.id, meta: primitive.meta };
      units.push(unit);
      this.claim(primitive.id, unit);
    }
    this.units = units.sort(byId);
    this.locations = sortConstraints(
      model.constraints.filter((c): c is LocationConstraint => c.kind === "location"),
    );
    this.colocations = sortConstraints(
      model.constraints.filter((c): c is ColocationConstraint => c.kind === "colocation"),
    );
    this.orders = sortConstraints(
      model.constraints.filter((c): c is OrderConstraint => c.kind === "order"),
    );
    for (const c of this.locations) this.unitOf(c.resource, `location "${c.id}"`);
    for (const c of this.colocations) {
      this.unitOf(c.resource, `colocation "${c.id}"`);
      this.unitOf(c.with, `colocation "${c.id}"`);
    }
    for (const c of this.orders) {
      this.unitOf(c.first, `order "${c.id}"`);
      this.unitOf(c.then, `order "${c.id}"`);
    }
  }

  private claim(resource: string, unit: Unit): void {
    const owner = this.unitByResource.get(resource);
    if (owner !== undefined && owner !== unit) {
      throw new Error(`resource "${resource}" belongs to both "${owner.id}" and "${unit.id}"`);
    }
    this.unitByResource.set(resource, unit);
  }

  /** The placement unit a resource id (primitive, group, clone) belongs to. */
  unitOf(resource: string, where: string): Unit {
    const unit = this.unitByResource.get(resource);
    if (unit === undefined) throw new Error(`${where}: unknown resource "${resource}"`);
    return unit;
  }

  findUnit(resource: string): Unit | undefined {
    return this.unitByResource.get(resource);
  }

  /** Resource ids whose location constraints count toward the unit's own score (members excluded for groups). */
  ownSubjects(unit: Unit): string[] {
    if (unit.kind !== "clone") return [unit.id];
    return [unit.id, unit.clone.of];
  }

  /** The placement keys (primitive ids or clone instance keys) a resource id stands for. */
  keysOf(resource: string): string[] {
    const unit = this.unitOf(resource, "policy");
    if (unit.kind === "primitive") return [unit.id];
    if (unit.kind === "group") return resource === unit.id ? [...unit.members] : [resource];
    const keys: string[] = [];
    for (let index = 0; index < unit.clone.max; index++) {
      if (unit.members === undefined) keys.push(cloneInstanceKey(unit.id, index));
      else {
        const members = unit.members.includes(resource) ? [resource] : unit.members;
        for (const member of members) keys.push(cloneInstanceKey(unit.id, index, member));
      }
    }
    return keys;
  }

  /** Every placement key of a unit, in start order. */
  unitKeys(unit: Unit): string[] {
    return this.keysOf(unit.id);
  }

  metaOfPrimitive(id: string): ResourceMeta {
    const primitive = Object.hasOwn(this.model.primitives, id)
      ? this.model.primitives[id]
      : undefined;
    if (primitive === undefined) throw new Error(`policy: unknown primitive "${id}"`);
    return primitive.meta;
  }
}
