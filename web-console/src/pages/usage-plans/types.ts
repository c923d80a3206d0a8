// The management API's UsagePlan shapes (GetUsagePlans, CreateUsagePlan), from its OpenAPI
// document, under the names these screens use, with GetUsage's answer.
import type { ApiStage, QuotaSettings, ThrottleSettings, UsagePlan, UsagePlanKey, Usage } from "../../api/types";
export type { ApiStage };
export type Throttle = ThrottleSettings;
export type Quota = QuotaSettings;
export type Plan = UsagePlan;
export type PlanKey = UsagePlanKey;
/** GetUsage: per key id, one `[used, remaining]` pair per day from `startDate`. */
export type { Usage };
