import { RaftNode } from "../consensus/raft-node.js";
import type { ConsensusNodeFactory } from "./consensus-node.js";

/** The real Raft core, as the simulator runs it by default. */
export const createRaftNode: ConsensusNodeFactory = (options) => new RaftNode(options);
