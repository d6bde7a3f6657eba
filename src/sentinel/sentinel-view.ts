import type { ClusterState } from "../state/types.js";

/** One Sentinel master name as configured: the promotable resource behind it and its addresses. */
export interface SentinelService {
  name: string;
  resource: string;
  port: number;
  /** Node → the address its copy serves on. */
  addresses: Readonly<Record<string, string>>;
}

/** What a node knows when it answers: the state it applied and its own view of the others. */
export interface ClusterLook {
  state: ClusterState;
  /** The placement keys a resource name stands for (a clone: its copies). */
  keysOf(resource: string, state: ClusterState): string[];
  /** Membership: the node is this one, or a peer heard now. */
  isUp(node: string): boolean;
  /** This node holds its lease (or ignores quorum): what it applied is not stale by a partition. */
  leaseHeld: boolean;
}

/** A copy of a service as Sentinel shows an instance. */
export interface Instance {
  node: string;
  ip: string;
  port: number;
  /** Its node is not heard, or this node cannot vouch for what it applied (no lease). */
  down: boolean;
}

export interface ServiceView {
  name: string;
  /** The one promoted copy the committed state records; null with none, or more than one. */
  master: Instance | null;
  /** The unpromoted copies the committed state records. */
  replicas: Instance[];
}

/** Where the copies of `service` run and in which role, from the committed state. */
export function serviceView(service: SentinelService, look: ClusterLook): ServiceView {
  const promoted: Instance[] = [];
  const replicas: Instance[] = [];
  for (const key of look.keysOf(service.resource, look.state).sort()) {
    const byNode = Object.hasOwn(look.state.resources, key) ? look.state.resources[key] : undefined;
    for (const [node, cell] of Object.entries(byNode ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const ip = Object.hasOwn(service.addresses, node) ? service.addresses[node] : undefined;
      if (ip === undefined) continue;
      const instance = { node, ip, port: service.port, down: !look.leaseHeld || !look.isUp(node) };
      if (cell.active === "promoted") promoted.push(instance);
      else if (cell.active === "unpromoted") replicas.push(instance);
    }
  }
  return { name: service.name, master: promoted.length === 1 ? promoted[0]! : null, replicas };
}

/** What `SENTINEL get-master-addr-by-name` answers: the master while it runs under a lease. */
export function servingMaster(view: ServiceView): Instance | null {
  return view.master !== null && !view.master.down ? view.master : null;
}

export interface SwitchMaster {
  name: string;
  from: { ip: string; port: number };
  to: { ip: string; port: number };
}

/** `+switch-master`'s message: NAME OLDIP OLDPORT NEWIP NEWPORT. */
export function switchMasterText(change: SwitchMaster): string {
  return `${change.name} ${change.from.ip} ${change.from.port} ${change.to.ip} ${change.to.port}`;
}

/**
 * The last master of each service and when it moved, from the committed state as each node
 * applies it: every node derives the same changes, so a client subscribed to any of them hears
 * `+switch-master`. A service with no master for a while (between the old one's loss and the
 * promotion of another) keeps its last one; a master first seen is no switch.
 */
export class MasterTracker {
  private readonly last = new Map<string, Instance>();
  private readonly epochs = new Map<string, number>();

  observe(views: readonly ServiceView[]): SwitchMaster[] {
    const changes: SwitchMaster[] = [];
    for (const view of views) {
      if (view.master === null) continue;
      const before = this.last.get(view.name);
      this.last.set(view.name, view.master);
      if (before === undefined) continue;
      if (before.ip === view.master.ip && before.port === view.master.port) continue;
      this.epochs.set(view.name, this.epoch(view.name) + 1);
      changes.push({
        name: view.name,
        from: { ip: before.ip, port: before.port },
        to: { ip: view.master.ip, port: view.master.port },
      });
    }
    return changes;
  }

  /** The master last seen for `name`, down or not; null before any. */
  lastMaster(name: string): Instance | null {
    return this.last.get(name) ?? null;
  }

  /** How many times the master of `name` moved since this agent started (Sentinel's config-epoch). */
  epoch(name: string): number {
    return this.epochs.get(name) ?? 0;
  }
}
