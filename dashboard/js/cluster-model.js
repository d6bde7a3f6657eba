/**
 * What the dashboard knows, from the stream's events: the status (as GET /v1/status returns it),
 * the replicated state, and every peer × link's heartbeat samples.
 */

/** How far back the heartbeat view goes (the agent keeps five minutes). */
export const HISTORY_WINDOW_MS = 5 * 60_000;

export class ClusterModel {
  constructor() {
    this.status = null;
    this.state = null;
    /** "node link" → { node, link, samples (oldest first) } */
    this.heartbeats = new Map();
  }

  /** Takes one stream event; false for an event this page does not know. */
  apply(name, data) {
    switch (name) {
      case "status":
        this.status = data;
        return true;
      case "state":
        this.state = data;
        return true;
      case "history":
        this.heartbeats = new Map(data.map((series) => [`${series.node} ${series.link}`, series]));
        return true;
      case "heartbeats":
        for (const { node, link, sample } of data) this.addSample(node, link, sample);
        return true;
      default:
        return false;
    }
  }

  addSample(node, link, sample) {
    const key = `${node} ${link}`;
    let series = this.heartbeats.get(key);
    if (series === undefined) {
      series = { node, link, samples: [] };
      this.heartbeats.set(key, series);
    }
    const last = series.samples.at(-1);
    if (last !== undefined && last.atMs === sample.atMs)
      series.samples[series.samples.length - 1] = sample;
    else series.samples.push(sample);
    const oldest = sample.atMs - HISTORY_WINDOW_MS;
    while (series.samples.length > 0 && series.samples[0].atMs < oldest) series.samples.shift();
  }

  /** The name of the node with Raft id `id` (this node or a peer), or null. */
  nodeName(id) {
    if (id === null || id === undefined || this.status === null) return null;
    if (id === this.status.node.id) return this.status.node.name;
    return this.status.nodes.find((node) => node.id === id)?.name ?? String(id);
  }

  /** Every node, the answering one first: membership state, standby, leader, its links. */
  nodes() {
    const status = this.status;
    if (status === null) return [];
    const leader = this.nodeName(status.coordination?.leaderId);
    const self = {
      id: status.node.id,
      name: status.node.name,
      state: "up",
      incarnation: status.node.incarnation,
      links: [],
      self: true,
    };
    return [self, ...status.nodes].map((node) => ({
      ...node,
      self: node.self === true,
      leader: node.name === leader,
      standby: this.state?.nodes?.[node.name]?.standby === true,
      shuttingDown: this.state?.agents?.[node.name]?.shuttingDown === true,
    }));
  }

  /** Nodes that can run resources, by name (for move and ban targets). */
  nodeNames() {
    return this.nodes().map((node) => node.name);
  }
}
