import { FixedDetector } from "./fixed-detector.js";
import type { LinkDetector } from "./link-detector.js";
import { PhiAccrualDetector } from "./phi-detector.js";
import type { DetectorSettings, MembershipTiming } from "./timing.js";

export function createDetector(settings: DetectorSettings, timing: MembershipTiming): LinkDetector {
  switch (settings.type) {
    case "fixed":
      return new FixedDetector(timing);
    case "phi":
      return new PhiAccrualDetector(settings, timing);
  }
}
