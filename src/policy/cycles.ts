import type { ResourceModel } from "../resource-model/types.js";

/**
 * Order-constraint cycles ("a then b", "b then a"), one message per cycle found, naming the
 * resources and the constraints involved. Group-internal order is not included (it is linear).
 * Returned sorted, so the result does not depend on the document's order.
 */
export function detectConstraintCycles(model: ResourceModel): string[] {
  return findOrderCycles(model).map((cycle) => cycle.message);
}

/** The same cycles, each with the ids of the order constraints that form it. */
export function findOrderCycles(
  model: ResourceModel,
): Array<{ constraintIds: string[]; message: string }> {
  const edges = new Map<string, Array<{ to: string; id: string }>>();
  for (const c of model.constraints) {
    if (c.kind !== "order") continue;
    const list = edges.get(c.first) ?? [];
    list.push({ to: c.then, id: c.id });
    edges.set(c.first, list);
  }
  for (const list of edges.values()) list.sort((a, b) => (a.to + a.id < b.to + b.id ? -1 : 1));

  // Tarjan's strongly connected components: every component with more than one resource, or a
  // resource ordered after itself, is a cycle.
  let counter = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string) => {
    indexOf.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const { to } of edges.get(node) ?? []) {
      if (!indexOf.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(to) ?? 0));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node) ?? 0, indexOf.get(to) ?? 0));
      }
    }
    if (low.get(node) !== indexOf.get(node)) return;
    const component: string[] = [];
    for (;;) {
      const member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
      if (member === node) break;
    }
    components.push(component.sort());
  };
  for (const node of [...edges.keys()].sort()) if (!indexOf.has(node)) visit(node);

  const cycles: Array<{ constraintIds: string[]; message: string }> = [];
  for (const component of components) {
    const members = new Set(component);
    const ids = component
      .flatMap((from) => (edges.get(from) ?? []).filter((e) => members.has(e.to)).map((e) => e.id))
      .sort();
    if (ids.length === 0) continue;
    const path = describePath(component, edges, members);
    cycles.push({
      constraintIds: ids,
      message: `order constraints ${ids.join(", ")} form a cycle: ${path}`,
    });
  }
  return cycles.sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
}

/** The shortest walk around the cycle from its smallest resource, e.g. "a → b → a". */
function describePath(
  component: string[],
  edges: Map<string, Array<{ to: string; id: string }>>,
  members: Set<string>,
): string {
  const start = component[0] as string;
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const at = queue.shift() as string;
    for (const { to } of edges.get(at) ?? []) {
      if (!members.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (
          let node: string | undefined = at;
          node !== undefined && node !== start;
          node = parent.get(node)
        ) {
          path.unshift(node);
        }
        path.unshift(start);
        return path.join(" → ");
      }
      if (parent.has(to)) continue;
      parent.set(to, at);
      queue.push(to);
    }
  }
  return component.join(", ");
}
