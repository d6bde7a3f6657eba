import { formatMs, h } from "../dom.js";

/** Raft as the answering node sees it: votes, leader, term, its lease; and maintenance mode. */
export function quorumView(model, operations) {
  const status = model.status;
  const raft = status.coordination;
  const maintenance = model.state?.maintenance === true;
  const quorum = status.resources?.quorum;
  const leaseLeftMs =
    raft?.leaseUntilMs === null || raft?.leaseUntilMs === undefined
      ? null
      : Math.max(0, raft.leaseUntilMs - status.nowMs);
  const rows =
    raft === null
      ? [["coordination", "not started yet"]]
      : [
          [
            "quorum",
            `${raft.votesPresent >= raft.votesNeeded ? "yes" : "NO"}: ${raft.votesPresent} votes present, ${raft.votesNeeded} needed`,
          ],
          ["leader", model.nodeName(raft.leaderId) ?? "none known"],
          ["term", raft.term],
          [`${status.node.name}'s role`, raft.role.replace("_", "-")],
          [
            `${status.node.name}'s lease`,
            quorum?.leaseHeld === false
              ? "not held: resources here are stopped"
              : leaseLeftMs === null
                ? "none"
                : // Rounded: the lease is renewed all the time, the tenths are what a person reads.
                  `held, ${formatMs(Math.round(leaseLeftMs / 100) * 100)} left`,
          ],
          ["lease losses", raft.leaseLosses],
          ["waiting for all", raft.waitingForAll ? "yes (not every node seen yet)" : "no"],
          ["state version", raft.stateVersion],
          ["maintenance", maintenance ? "ON: nothing is started or stopped" : "off"],
        ];
  const key = JSON.stringify([operations.allowed, rows]);
  const build = () => [
    h(
      "dl",
      { class: "facts", "data-quorum": raft !== null && raft.votesPresent >= raft.votesNeeded },
      rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, String(value))]),
    ),
    operations.button(
      maintenance ? "Maintenance off" : "Maintenance on",
      maintenance
        ? {
            question: "Turn maintenance mode off? The cluster starts and stops resources again.",
            request: { type: "maintenance", on: false },
          }
        : {
            question: "Turn maintenance mode on? Nothing is started or stopped until it is off.",
            request: { type: "maintenance", on: true },
          },
      { "data-op": "maintenance" },
    ),
  ];
  return { key, build };
}
