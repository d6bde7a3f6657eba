/** Pacemaker 2.1's feature set: agents pick crm_master and crm_mon's XML output above 3.10. */
export const CRM_FEATURE_SET = "3.19.0";
