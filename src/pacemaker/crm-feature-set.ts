/** The Pacemaker release whose tools Vigil's stand in for (its version, as `pacemakerd -$` says). */
export const PACEMAKER_VERSION = "2.1.5";

/** Pacemaker 2.1's feature set: agents pick crm_master and crm_mon's XML output above 3.10. */
export const CRM_FEATURE_SET = "3.19.0";

/**
 * What `pacemakerd -$` prints. ocf_local_nodename takes the second word of every line that says
 * "Pacemaker …": Pacemaker 2.1's credit line ("… and the Pacemaker project contributors") made
 * that two words, failing the version check, so the credit is 1.1's.
 */
export function pacemakerdVersionText(): string {
  return `Pacemaker ${PACEMAKER_VERSION}\nWritten by Andrew Beekhof\n`;
}
