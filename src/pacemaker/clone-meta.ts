/**
 * The OCF_RESKEY_CRM_meta_* a clone's copy gets from Pacemaker, which agents read to know they
 * run as a clone (ocf_is_clone: clone_max), a promotable one (ocf_is_ms: master_max) and how many
 * copies there are, and whether it is sent notifications (takeover/notify-round.ts). Vigil's
 * clones have one copy per node.
 */
import type { Clone } from "../resource-model/types.js";

export function cloneMetaEnvironment(clone: Clone, index: number): Record<string, string> {
  return {
    VIGIL_CLONE: clone.id,
    OCF_RESKEY_CRM_meta_clone: String(index),
    OCF_RESKEY_CRM_meta_clone_max: String(clone.max),
    OCF_RESKEY_CRM_meta_clone_node_max: String(clone.maxPerNode),
    OCF_RESKEY_CRM_meta_globally_unique: "false",
    OCF_RESKEY_CRM_meta_notify: String(clone.notify === true),
    ...(clone.promotable
      ? {
          // Pacemaker 2.1 sends both spellings; agents older and newer read one or the other.
          OCF_RESKEY_CRM_meta_promoted_max: String(clone.promotedMax),
          OCF_RESKEY_CRM_meta_master_max: String(clone.promotedMax),
          OCF_RESKEY_CRM_meta_promoted_node_max: "1",
          OCF_RESKEY_CRM_meta_master_node_max: "1",
        }
      : {}),
  };
}
